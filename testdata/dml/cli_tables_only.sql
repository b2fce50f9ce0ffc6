-- pitr dev replay
-- binlogs: mysql-bin.000002 mysql-bin.000003 mysql-bin.000004
-- statements as the binlog holds them, passwords of account statements included: keep this as secret as the binlogs
-- window start: mysql-bin.000002:4 (the start of the first binlog)
-- window stop: the end of the binlogs
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

-- mysql-bin.000002:627-903 committed 2024-01-01 00:00:00 UTC GTID 0-1-3 server 1
BEGIN;
SET TIMESTAMP=1704067200, @@session.pseudo_thread_id=5, @@session.explicit_defaults_for_timestamp=1, @@session.sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', @@session.character_set_client=45, @@session.collation_connection=45, @@session.collation_server=45;
CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, customer INT NOT NULL, total DECIMAL(12,2) NOT NULL, note VARCHAR(100), created DATETIME(6) NOT NULL);
SET NAMES utf8mb4;
SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET TIMESTAMP=DEFAULT;
COMMIT; -- DDL

-- mysql-bin.000002:903-1143 committed 2024-01-01 00:00:00 UTC GTID 0-1-4 server 1
BEGIN;
SET TIMESTAMP=1704067200, @@session.pseudo_thread_id=5, @@session.explicit_defaults_for_timestamp=1, @@session.sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', @@session.character_set_client=45, @@session.collation_connection=45, @@session.collation_server=45;
CREATE TABLE shop.order_items (order_id INT NOT NULL, sku VARCHAR(20) NOT NULL, qty INT NOT NULL, PRIMARY KEY (order_id, sku));
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

-- mysql-bin.000002:2689-3281 committed 2024-01-01 00:03:00 UTC GTID 0-1-9 server 1
BEGIN;
-- statement: UPDATE crm.customers SET email = 'bob@example.com' WHERE id = 2
UPDATE `crm`.`customers` SET `email`='bob@example.com' WHERE `id`=2 LIMIT 1;
COMMIT; -- 1 rows (0 inserted, 1 updated, 0 deleted)

-- mysql-bin.000003:342-795 committed 2024-01-01 00:05:00 UTC GTID 0-1-10 server 1
BEGIN;
-- statement: UPDATE shop.orders SET total = total * 2, note = CONCAT(IFNULL(note, ''), ' doubled') WHERE id <= 2
UPDATE `shop`.`orders` SET `total`=21.00, `note`='first doubled', `created`='2024-01-01 00:02:00.123456' WHERE `id`=1 LIMIT 1;
UPDATE `shop`.`orders` SET `total`=199.98, `note`=' doubled', `created`='2024-01-01 00:03:00.000000' WHERE `id`=2 LIMIT 1;
COMMIT; -- 2 rows (0 inserted, 2 updated, 0 deleted)

-- mysql-bin.000003:1258-1533 committed 2024-01-01 00:07:00 UTC GTID 0-1-13 server 1
BEGIN;
-- statement: DELETE FROM shop.order_items WHERE sku = 'B-2'
DELETE FROM `shop`.`order_items` WHERE `order_id`=1 AND `sku`='B-2' LIMIT 1;
COMMIT; -- 1 rows (0 inserted, 0 updated, 1 deleted)

-- mysql-bin.000004:587-861 committed 2024-01-01 00:10:00 UTC GTID 0-1-16 server 1
BEGIN;
-- statement: DELETE FROM crm.customers WHERE id = 3
DELETE FROM `crm`.`customers` WHERE `id`=3 LIMIT 1;
COMMIT; -- 1 rows (0 inserted, 0 updated, 1 deleted)

-- mysql-bin.000004:904-1075 committed 2024-01-01 00:11:00 UTC GTID 0-1-17 server 1
BEGIN;
SET TIMESTAMP=1704067860, @@session.pseudo_thread_id=5, @@session.explicit_defaults_for_timestamp=1, @@session.sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', @@session.character_set_client=45, @@session.collation_connection=45, @@session.collation_server=45;
DROP TABLE `shop`.`order_items` /* generated by server */;
SET NAMES utf8mb4;
SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET TIMESTAMP=DEFAULT;
COMMIT; -- DDL
-- end: the binlogs end at mysql-bin.000004:1421; no stop condition was met before
