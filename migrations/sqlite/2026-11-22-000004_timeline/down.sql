DROP TABLE timeline_services;
DROP TABLE timeline_items;
