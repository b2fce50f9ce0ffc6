/*M!999999\- enable the sandbox mode */ 
-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: fx
-- ------------------------------------------------------
-- Server version	10.11.19-MariaDB-0+deb12u1-log

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;

--
-- Current Database: `fx`
--

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `fx` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */;

USE `fx`;

--
-- Table structure for table `bytes`
--

DROP TABLE IF EXISTS `bytes`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `bytes` (
  `id` int(11) NOT NULL,
  `vb` varbinary(512) DEFAULT NULL,
  `bl` blob DEFAULT NULL,
  `l1` varchar(300) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT NULL,
  `u` varchar(100) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Table structure for table `fsp`
--

DROP TABLE IF EXISTS `fsp`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `fsp` (
  `id` int(11) NOT NULL,
  `t0` time DEFAULT NULL,
  `t1` time(1) DEFAULT NULL,
  `t2` time(2) DEFAULT NULL,
  `t3` time(3) DEFAULT NULL,
  `t4` time(4) DEFAULT NULL,
  `t5` time(5) DEFAULT NULL,
  `t6` time(6) DEFAULT NULL,
  `d0` datetime DEFAULT NULL,
  `d1` datetime(1) DEFAULT NULL,
  `d2` datetime(2) DEFAULT NULL,
  `d3` datetime(3) DEFAULT NULL,
  `d4` datetime(4) DEFAULT NULL,
  `d5` datetime(5) DEFAULT NULL,
  `d6` datetime(6) DEFAULT NULL,
  `s0` timestamp NULL DEFAULT NULL,
  `s1` timestamp(1) NULL DEFAULT NULL,
  `s2` timestamp(2) NULL DEFAULT NULL,
  `s3` timestamp(3) NULL DEFAULT NULL,
  `s4` timestamp(4) NULL DEFAULT NULL,
  `s5` timestamp(5) NULL DEFAULT NULL,
  `s6` timestamp(6) NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Table structure for table `gen`
--

DROP TABLE IF EXISTS `gen`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `gen` (
  `id` int(11) NOT NULL,
  `a` int(11) DEFAULT NULL,
  `b` varchar(20) DEFAULT NULL,
  `v` int(11) GENERATED ALWAYS AS (`a` * 2) VIRTUAL,
  `s` varchar(40) GENERATED ALWAYS AS (concat(`b`,'!')) STORED,
  PRIMARY KEY (`id`),
  KEY `v` (`v`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Table structure for table `geo_order`
--

DROP TABLE IF EXISTS `geo_order`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `geo_order` (
  `id` int(11) NOT NULL,
  `g` point DEFAULT NULL,
  `a` varchar(10) DEFAULT NULL,
  `b` varchar(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Table structure for table `nokey`
--

DROP TABLE IF EXISTS `nokey`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `nokey` (
  `a` varchar(10) DEFAULT NULL,
  `b` int(11) DEFAULT NULL,
  `f` float DEFAULT NULL,
  `n` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Table structure for table `types`
--

DROP TABLE IF EXISTS `types`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `types` (
  `id` int(11) NOT NULL,
  `ti` tinyint(4) DEFAULT NULL,
  `tiu` tinyint(3) unsigned DEFAULT NULL,
  `si` smallint(6) DEFAULT NULL,
  `siu` smallint(5) unsigned DEFAULT NULL,
  `mi` mediumint(9) DEFAULT NULL,
  `miu` mediumint(8) unsigned DEFAULT NULL,
  `i` int(11) DEFAULT NULL,
  `iu` int(10) unsigned DEFAULT NULL,
  `bi` bigint(20) DEFAULT NULL,
  `biu` bigint(20) unsigned DEFAULT NULL,
  `d65` decimal(65,30) DEFAULT NULL,
  `d10` decimal(10,2) DEFAULT NULL,
  `d5` decimal(5,0) unsigned DEFAULT NULL,
  `d30` decimal(30,30) DEFAULT NULL,
  `f` float DEFAULT NULL,
  `dbl` double DEFAULT NULL,
  `f72` float(7,2) DEFAULT NULL,
  `b1` bit(1) DEFAULT NULL,
  `b10` bit(10) DEFAULT NULL,
  `b64` bit(64) DEFAULT NULL,
  `y` year(4) DEFAULT NULL,
  `dt` date DEFAULT NULL,
  `tm` time DEFAULT NULL,
  `tm1` time(1) DEFAULT NULL,
  `tm6` time(6) DEFAULT NULL,
  `dtm` datetime DEFAULT NULL,
  `dtm3` datetime(3) DEFAULT NULL,
  `dtm6` datetime(6) DEFAULT NULL,
  `ts` timestamp NULL DEFAULT NULL,
  `ts2` timestamp(2) NULL DEFAULT NULL,
  `ts6` timestamp(6) NULL DEFAULT NULL,
  `e` enum('a','b','c d','é','it''s') DEFAULT NULL,
  `s` set('x','y','z','ü') DEFAULT NULL,
  `c` char(10) DEFAULT NULL,
  `c255` char(255) DEFAULT NULL,
  `vc` varchar(300) DEFAULT NULL,
  `vcl` varchar(50) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT NULL,
  `vc3` varchar(20) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci DEFAULT NULL,
  `tx` text DEFAULT NULL,
  `mtx` mediumtext DEFAULT NULL,
  `bin` binary(4) DEFAULT NULL,
  `vb` varbinary(300) DEFAULT NULL,
  `bl` blob DEFAULT NULL,
  `tb` tinyblob DEFAULT NULL,
  `lb` longblob DEFAULT NULL,
  `j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`)),
  `g` geometry DEFAULT NULL,
  `pt` point DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed
