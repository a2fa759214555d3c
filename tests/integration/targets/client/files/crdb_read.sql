SELECT count(*) FROM it.kv;
SELECT v FROM it.kv WHERE id = 3;
