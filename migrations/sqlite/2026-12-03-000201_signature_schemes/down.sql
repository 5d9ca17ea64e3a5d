DROP TABLE signature_schemes;
