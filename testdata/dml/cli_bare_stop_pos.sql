-- pitr dev replay
-- binlogs: mysql-bin.000002
-- statements as the binlog holds them, passwords of account statements included: keep this as secret as the binlogs
-- window start: mysql-bin.000002:4 (the start of the first binlog)
-- window stop: before the first transaction that ends after mysql-bin.000002:3281
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

-- mysql-bin.000002:1143-1299 committed 2024-01-01 00:00:00 UTC GTID 0-1-5 server 1
BEGIN;
SET TIMESTAMP=1704067200, @@session.pseudo_thread_id=5, @@session.explicit_defaults_for_timestamp=1, @@session.sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', @@session.character_set_client=45, @@session.collation_connection=45, @@session.collation_server=45;
CREATE TABLE shop.audit (msg VARCHAR(100));
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

-- mysql-bin.000002:1888-2689 committed 2024-01-01 00:02:00 UTC GTID 0-1-8 server 1
BEGIN;
-- statement: INSERT INTO shop.orders (customer, total, note, created) VALUES (1, 10.50, 'first', '2024-01-01 00:02:00.123456')
INSERT INTO `shop`.`orders` (`id`,`customer`,`total`,`note`,`created`) VALUES (1,1,10.50,'first','2024-01-01 00:02:00.123456');
-- statement: INSERT INTO shop.order_items VALUES (LAST_INSERT_ID(), 'A-1', 2), (LAST_INSERT_ID(), 'B-2', 1)
INSERT INTO `shop`.`order_items` (`order_id`,`sku`,`qty`) VALUES (1,'A-1',2);
INSERT INTO `shop`.`order_items` (`order_id`,`sku`,`qty`) VALUES (1,'B-2',1);
-- statement: INSERT INTO shop.audit VALUES ('order 1')
INSERT INTO `shop`.`audit` (`msg`) VALUES ('order 1');
COMMIT; -- 4 rows (4 inserted, 0 updated, 0 deleted)

-- mysql-bin.000002:2689-3281 committed 2024-01-01 00:03:00 UTC GTID 0-1-9 server 1
BEGIN;
-- statement: INSERT INTO shop.orders (customer, total, note, created) VALUES (2, 99.99, NULL, '2024-01-01 00:03:00')
INSERT INTO `shop`.`orders` (`id`,`customer`,`total`,`note`,`created`) VALUES (2,2,99.99,NULL,'2024-01-01 00:03:00.000000');
-- statement: UPDATE crm.customers SET email = 'bob@example.com' WHERE id = 2
UPDATE `crm`.`customers` SET `email`='bob@example.com' WHERE `id`=2 LIMIT 1;
COMMIT; -- 2 rows (1 inserted, 1 updated, 0 deleted)
-- end: the binlogs end at mysql-bin.000002:3328; no stop condition was met before
