DROP TABLE notifications;
DROP TABLE webhooks;
DROP TABLE email_subscribers;
