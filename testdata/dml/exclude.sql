SET NAMES utf8mb4;
SET time_zone='+00:00';
SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET foreign_key_checks=1;
SET unique_checks=1;

-- mysql-bin.000002:371-500 committed 2024-01-01 00:00:00 UTC GTID 0-1-1 server 1
BEGIN;
SET TIMESTAMP=1704067200, @@session.pseudo_thread_id=5, @@session.explicit_defaults_for_timestamp=1, @@session.sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', @@session.character_set_client=45, @@session.collation_connection=45, @@session.collation_server=45;
CREATE DATABASE shop;
SET NAMES utf8mb4;
SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET TIMESTAMP=DEFAULT;
COMMIT; -- DDL

-- mysql-bin.000002:500-627 committed 2024-01-01 00:00:00 UTC GTID 0-1-2 server 1
BEGIN;
SET TIMESTAMP=1704067200, @@session.pseudo_thread_id=5, @@session.explicit_defaults_for_timestamp=1, @@session.sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', @@session.character_set_client=45, @@session.collation_connection=45, @@session.collation_server=45;
CREATE DATABASE crm;
SET NAMES utf8mb4;
SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET TIMESTAMP=DEFAULT;
COMMIT; -- DDL

-- mysql-bin.000002:1299-1507 committed 2024-01-01 00:00:00 UTC GTID 0-1-6 server 1
BEGIN;
SET TIMESTAMP=1704067200, @@session.pseudo_thread_id=5, @@session.explicit_defaults_for_timestamp=1, @@session.sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', @@session.character_set_client=45, @@session.collation_connection=45, @@session.collation_server=45;
CREATE TABLE crm.customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, email VARCHAR(100));
SET NAMES utf8mb4;
SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET TIMESTAMP=DEFAULT;
COMMIT; -- DDL

-- mysql-bin.000002:1507-1888 committed 2024-01-01 00:01:00 UTC GTID 0-1-7 server 1
BEGIN;
-- statement: INSERT INTO crm.customers VALUES (1, 'Ann', 'ann@example.com'), (2, 'Bob', NULL), (3, 'Cé', 'ce@example.com')
INSERT INTO `crm`.`customers` (`id`,`name`,`email`) VALUES (1,'Ann','ann@example.com');
INSERT INTO `crm`.`customers` (`id`,`name`,`email`) VALUES (2,'Bob',NULL);
INSERT INTO `crm`.`customers` (`id`,`name`,`email`) VALUES (3,'Cé','ce@example.com');
COMMIT; -- 3 rows (3 inserted, 0 updated, 0 deleted)

-- mysql-bin.000002:2689-3281 committed 2024-01-01 00:03:00 UTC GTID 0-1-9 server 1
BEGIN;
-- statement: UPDATE crm.customers SET email = 'bob@example.com' WHERE id = 2
UPDATE `crm`.`customers` SET `email`='bob@example.com' WHERE `id`=2 LIMIT 1;
COMMIT; -- 1 rows (0 inserted, 1 updated, 0 deleted)

-- mysql-bin.000004:587-861 committed 2024-01-01 00:10:00 UTC GTID 0-1-16 server 1
BEGIN;
-- statement: DELETE FROM crm.customers WHERE id = 3
DELETE FROM `crm`.`customers` WHERE `id`=3 LIMIT 1;
COMMIT; -- 1 rows (0 inserted, 0 updated, 1 deleted)

-- mysql-bin.000004:1075-1374 committed 2024-01-01 00:12:00 UTC GTID 0-1-18 server 1
BEGIN;
-- statement: INSERT INTO crm.customers VALUES (4, 'Dee', 'dee@example.com')
INSERT INTO `crm`.`customers` (`id`,`name`,`email`) VALUES (4,'Dee','dee@example.com');
COMMIT; -- 1 rows (1 inserted, 0 updated, 0 deleted)
