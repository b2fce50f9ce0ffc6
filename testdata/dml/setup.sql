-- options: row_image=FULL row_metadata=FULL
-- OLTP-shaped history over two databases and three binlog files: single- and multi-table
-- transactions, a rolled-back transaction (never logged), DDL, and statement timestamps fixed
-- one minute apart from 2024-01-01 00:00:00 UTC so that time windows are testable.
SET SESSION time_zone = '+00:00';
SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:00:00');
CREATE DATABASE shop;
CREATE DATABASE crm;
CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, customer INT NOT NULL, total DECIMAL(12,2) NOT NULL, note VARCHAR(100), created DATETIME(6) NOT NULL);
CREATE TABLE shop.order_items (order_id INT NOT NULL, sku VARCHAR(20) NOT NULL, qty INT NOT NULL, PRIMARY KEY (order_id, sku));
CREATE TABLE shop.audit (msg VARCHAR(100));
CREATE TABLE crm.customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, email VARCHAR(100));

SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:01:00');
INSERT INTO crm.customers VALUES (1, 'Ann', 'ann@example.com'), (2, 'Bob', NULL), (3, 'Cé', 'ce@example.com');

SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:02:00');
BEGIN;
INSERT INTO shop.orders (customer, total, note, created) VALUES (1, 10.50, 'first', '2024-01-01 00:02:00.123456');
INSERT INTO shop.order_items VALUES (LAST_INSERT_ID(), 'A-1', 2), (LAST_INSERT_ID(), 'B-2', 1);
INSERT INTO shop.audit VALUES ('order 1');
COMMIT;

SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:03:00');
BEGIN;
INSERT INTO shop.orders (customer, total, note, created) VALUES (2, 99.99, NULL, '2024-01-01 00:03:00');
UPDATE crm.customers SET email = 'bob@example.com' WHERE id = 2;
COMMIT;

SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:04:00');
BEGIN;
INSERT INTO shop.orders (customer, total, note, created) VALUES (3, 1.00, 'rolled back', '2024-01-01 00:04:00');
ROLLBACK;

FLUSH BINARY LOGS;

SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:05:00');
UPDATE shop.orders SET total = total * 2, note = CONCAT(IFNULL(note, ''), ' doubled') WHERE id <= 2;

SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:06:00');
ALTER TABLE shop.audit ADD COLUMN at INT NULL;

SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:07:00');
INSERT INTO shop.audit VALUES ('after alter', 7);
DELETE FROM shop.order_items WHERE sku = 'B-2';

SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:08:00');
INSERT INTO shop.orders (customer, total, note, created) VALUES (1, 5.00, 'a', '2024-01-01 00:08:00'), (1, 6.00, 'b', '2024-01-01 00:08:00'), (2, 7.00, 'c', '2024-01-01 00:08:00');

FLUSH BINARY LOGS;

SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:09:00');
DELETE FROM shop.audit;
SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:10:00');
DELETE FROM crm.customers WHERE id = 3;
SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:11:00');
DROP TABLE shop.order_items;
SET @@timestamp = UNIX_TIMESTAMP('2024-01-01 00:12:00');
INSERT INTO crm.customers VALUES (4, 'Dee', 'dee@example.com');
