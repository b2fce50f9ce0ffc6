SET NAMES utf8mb4;
SET time_zone='+00:00';
SET sql_mode='NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
SET foreign_key_checks=1;
SET unique_checks=1;

-- mysql-bin.000002:1888-2689 committed 2024-01-01 00:02:00 UTC GTID 0-1-8 server 1
BEGIN;
INSERT INTO `shop`.`orders` (`id`,`customer`,`total`,`note`,`created`) VALUES (1,1,10.50,'first','2024-01-01 00:02:00.123456');
INSERT INTO `shop`.`order_items` (`order_id`,`sku`,`qty`) VALUES (1,'A-1',2);
INSERT INTO `shop`.`order_items` (`order_id`,`sku`,`qty`) VALUES (1,'B-2',1);
COMMIT; -- 3 rows (3 inserted, 0 updated, 0 deleted)

-- mysql-bin.000002:2689-3281 committed 2024-01-01 00:03:00 UTC GTID 0-1-9 server 1
BEGIN;
INSERT INTO `shop`.`orders` (`id`,`customer`,`total`,`note`,`created`) VALUES (2,2,99.99,NULL,'2024-01-01 00:03:00.000000');
COMMIT; -- 1 rows (1 inserted, 0 updated, 0 deleted)

-- mysql-bin.000003:1533-2019 committed 2024-01-01 00:08:00 UTC GTID 0-1-14 server 1
BEGIN;
INSERT INTO `shop`.`orders` (`id`,`customer`,`total`,`note`,`created`) VALUES (4,1,5.00,'a','2024-01-01 00:08:00.000000');
INSERT INTO `shop`.`orders` (`id`,`customer`,`total`,`note`,`created`) VALUES (5,1,6.00,'b','2024-01-01 00:08:00.000000');
INSERT INTO `shop`.`orders` (`id`,`customer`,`total`,`note`,`created`) VALUES (6,2,7.00,'c','2024-01-01 00:08:00.000000');
COMMIT; -- 3 rows (3 inserted, 0 updated, 0 deleted)
