-- pitr dev replay
-- binlogs: mysql-bin.000002
-- statements as the binlog holds them, passwords of account statements included: keep this as secret as the binlogs
-- window start: mysql-bin.000002:4 (the start of the first binlog)
-- window stop: the end of the binlogs
-- column names from the binlog's own table metadata, then ../../testdata/types_minimal/schema.sql (fx.bytes, fx.fsp, fx.gen, fx.geo_order, fx.nokey, fx.types)
SET NAMES utf8mb4;
SET time_zone='+00:00';
SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET foreign_key_checks=1;
SET unique_checks=1;

-- mysql-bin.000002:371-518 committed 2023-11-14 22:13:20 UTC GTID 0-1-1 server 1
BEGIN;
SET TIMESTAMP=1700000000, @@session.pseudo_thread_id=5, @@session.explicit_defaults_for_timestamp=1, @@session.sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', @@session.character_set_client=45, @@session.collation_connection=45, @@session.collation_server=45;
CREATE DATABASE fx CHARACTER SET utf8mb4;
SET NAMES utf8mb4;
SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET TIMESTAMP=DEFAULT;
COMMIT; -- DDL

-- mysql-bin.000002:1822-2000 committed 2023-11-14 22:13:20 UTC GTID 0-1-4 server 1
BEGIN;
SET TIMESTAMP=1700000000, @@session.pseudo_thread_id=5, @@session.explicit_defaults_for_timestamp=1, @@session.sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', @@session.character_set_client=45, @@session.collation_connection=45, @@session.collation_server=45;
USE `fx`;
CREATE TABLE nokey (a VARCHAR(10), b INT, f FLOAT, n INT NULL);
SET NAMES utf8mb4;
SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET TIMESTAMP=DEFAULT;
COMMIT; -- DDL

-- mysql-bin.000002:2594-2846 committed 2023-11-14 22:13:20 UTC GTID 0-1-6 server 1
BEGIN;
SET TIMESTAMP=1700000000, @@session.pseudo_thread_id=5, @@session.explicit_defaults_for_timestamp=1, @@session.sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', @@session.character_set_client=45, @@session.collation_connection=45, @@session.collation_server=45;
USE `fx`;
CREATE TABLE gen (id INT PRIMARY KEY, a INT, b VARCHAR(20), v INT AS (a * 2) VIRTUAL, s VARCHAR(40) AS (CONCAT(b, '!')) STORED, KEY (v));
SET NAMES utf8mb4;
SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET TIMESTAMP=DEFAULT;
COMMIT; -- DDL

-- mysql-bin.000002:84909-85218 committed 2023-11-14 22:13:20 UTC GTID 0-1-17 server 1
BEGIN;
-- statement: INSERT INTO nokey VALUES ('x', 1, 0.1, NULL), ('X', 1, 0.1, NULL), ('x ', 2, 1.5, 7)
INSERT INTO `fx`.`nokey` (`a`,`b`,`f`,`n`) VALUES ('x',1,0.1,NULL);
INSERT INTO `fx`.`nokey` (`a`,`b`,`f`,`n`) VALUES ('X',1,0.1,NULL);
INSERT INTO `fx`.`nokey` (`a`,`b`,`f`,`n`) VALUES ('x ',2,1.5,7);
COMMIT; -- 3 rows (3 inserted, 0 updated, 0 deleted)

-- mysql-bin.000002:85218-85471 committed 2023-11-14 22:13:20 UTC GTID 0-1-18 server 1
BEGIN;
-- statement: UPDATE nokey SET b = 5 WHERE a = BINARY 'X'
UPDATE `fx`.`nokey` SET `b`=5 WHERE `a`<=>CAST('X' AS BINARY) AND `b`<=>1 AND `f`<=>1.0000000149011612e-01 AND `n`<=>NULL LIMIT 1;
COMMIT; -- 1 rows (0 inserted, 1 updated, 0 deleted)

-- mysql-bin.000002:85471-85713 committed 2023-11-14 22:13:20 UTC GTID 0-1-19 server 1
BEGIN;
-- statement: DELETE FROM nokey WHERE a = BINARY 'x '
DELETE FROM `fx`.`nokey` WHERE `a`<=>CAST('x ' AS BINARY) AND `b`<=>2 AND `f`<=>1.5e+00 AND `n`<=>7 LIMIT 1;
COMMIT; -- 1 rows (0 inserted, 0 updated, 1 deleted)

-- mysql-bin.000002:85713-85959 committed 2023-11-14 22:13:20 UTC GTID 0-1-20 server 1
BEGIN;
-- statement: DELETE FROM nokey WHERE BINARY a = 'x' AND f < 1
DELETE FROM `fx`.`nokey` WHERE `a`<=>CAST('x' AS BINARY) AND `b`<=>1 AND `f`<=>1.0000000149011612e-01 AND `n`<=>NULL LIMIT 1;
COMMIT; -- 1 rows (0 inserted, 0 updated, 1 deleted)

-- mysql-bin.000002:89926-90233 committed 2023-11-14 22:13:20 UTC GTID 0-1-24 server 1
BEGIN;
-- statement: INSERT INTO gen (id, a, b) VALUES (1, 1, 'x'), (2, NULL, NULL), (3, -5, 'é')
INSERT INTO `fx`.`gen` (`id`,`a`,`b`) VALUES (1,1,'x');
INSERT INTO `fx`.`gen` (`id`,`a`,`b`) VALUES (2,NULL,NULL);
INSERT INTO `fx`.`gen` (`id`,`a`,`b`) VALUES (3,-5,'é');
COMMIT; -- 3 rows (3 inserted, 0 updated, 0 deleted)

-- mysql-bin.000002:90233-90565 committed 2023-11-14 22:13:20 UTC GTID 0-1-25 server 1
BEGIN;
-- statement: UPDATE gen SET a = a + 10, b = CONCAT(b, 'y') WHERE id IN (1, 3)
UPDATE `fx`.`gen` SET `a`=11, `b`='xy' WHERE `id`=1 LIMIT 1;
UPDATE `fx`.`gen` SET `a`=5, `b`='éy' WHERE `id`=3 LIMIT 1;
COMMIT; -- 2 rows (0 inserted, 2 updated, 0 deleted)

-- mysql-bin.000002:90565-90785 committed 2023-11-14 22:13:20 UTC GTID 0-1-26 server 1
BEGIN;
-- statement: DELETE FROM gen WHERE id = 2
DELETE FROM `fx`.`gen` WHERE `id`=2 LIMIT 1;
COMMIT; -- 1 rows (0 inserted, 0 updated, 1 deleted)
-- end: the binlogs end at mysql-bin.000002:91210; no stop condition was met before
