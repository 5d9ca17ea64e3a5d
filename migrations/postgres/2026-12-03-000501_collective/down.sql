DROP TABLE collective_joins;
DROP TABLE collective_reshares;
DROP TABLE collective_followers;
DROP TABLE collective_members;
