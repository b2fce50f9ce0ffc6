SET NAMES utf8mb4;
SET time_zone='+00:00';
SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET foreign_key_checks=1;
SET unique_checks=1;

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

-- mysql-bin.000003:342-795 committed 2024-01-01 00:05:00 UTC GTID 0-1-10 server 1
BEGIN;
-- statement: UPDATE shop.orders SET total = total * 2, note = CONCAT(IFNULL(note, ''), ' doubled') WHERE id <= 2
UPDATE `shop`.`orders` SET `total`=21.00, `note`='first doubled', `created`='2024-01-01 00:02:00.123456' WHERE `id`=1 LIMIT 1;
UPDATE `shop`.`orders` SET `total`=199.98, `note`=' doubled', `created`='2024-01-01 00:03:00.000000' WHERE `id`=2 LIMIT 1;
COMMIT; -- 2 rows (0 inserted, 2 updated, 0 deleted)

-- mysql-bin.000003:838-997 committed 2024-01-01 00:06:00 UTC GTID 0-1-11 server 1
BEGIN;
SET TIMESTAMP=1704067560, @@session.pseudo_thread_id=5, @@session.explicit_defaults_for_timestamp=1, @@session.sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', @@session.character_set_client=45, @@session.collation_connection=45, @@session.collation_server=45;
ALTER TABLE shop.audit ADD COLUMN at INT NULL;
SET NAMES utf8mb4;
SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET TIMESTAMP=DEFAULT;
COMMIT; -- DDL

-- mysql-bin.000003:997-1258 committed 2024-01-01 00:07:00 UTC GTID 0-1-12 server 1
BEGIN;
-- statement: INSERT INTO shop.audit VALUES ('after alter', 7)
INSERT INTO `shop`.`audit` (`msg`,`at`) VALUES ('after alter',7);
COMMIT; -- 1 rows (1 inserted, 0 updated, 0 deleted)

-- mysql-bin.000003:1258-1533 committed 2024-01-01 00:07:00 UTC GTID 0-1-13 server 1
BEGIN;
-- statement: DELETE FROM shop.order_items WHERE sku = 'B-2'
DELETE FROM `shop`.`order_items` WHERE `order_id`=1 AND `sku`='B-2' LIMIT 1;
COMMIT; -- 1 rows (0 inserted, 0 updated, 1 deleted)

-- mysql-bin.000003:1533-2019 committed 2024-01-01 00:08:00 UTC GTID 0-1-14 server 1
BEGIN;
-- statement: INSERT INTO shop.orders (customer, total, note, created) VALUES (1, 5.00, 'a', '2024-01-01 00:08:00'), (1, 6.00, 'b', '2024-01-01 00:08:00'), (2, 7.00, 'c', '2024-01-01 00:08:00')
INSERT INTO `shop`.`orders` (`id`,`customer`,`total`,`note`,`created`) VALUES (4,1,5.00,'a','2024-01-01 00:08:00.000000');
INSERT INTO `shop`.`orders` (`id`,`customer`,`total`,`note`,`created`) VALUES (5,1,6.00,'b','2024-01-01 00:08:00.000000');
INSERT INTO `shop`.`orders` (`id`,`customer`,`total`,`note`,`created`) VALUES (6,2,7.00,'c','2024-01-01 00:08:00.000000');
COMMIT; -- 3 rows (3 inserted, 0 updated, 0 deleted)
