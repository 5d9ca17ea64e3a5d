DROP TABLE peer_directory;
