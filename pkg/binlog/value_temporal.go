package binlog

import (
	"encoding/binary"
	"fmt"
)

// Offsets that make the on-disk forms of MySQL 5.6 temporal types (also used by MariaDB 10.1+ for
// TIME2/DATETIME2/TIMESTAMP2) unsigned, so they sort as bytes: TIMEF_OFS, TIMEF_INT_OFS and
// DATETIMEF_INT_OFS in mysys/my_time.cc.
const (
	tmTimeOfs        = 0x800000000000
	tmTimeIntOfs     = 0x800000
	tmDatetimeIntOfs = 0x8000000000
	tmMaxFsp         = 6 // DATETIME_MAX_DECIMALS
)

// tmFracBytes is the size of the fraction part of TIME2/DATETIME2/TIMESTAMP2 for fsp 0..6: two
// digits share a byte, so fsp 1 and 2 (3 and 4, 5 and 6) store the same bytes.
func tmFracBytes(fsp int) int { return (fsp + 1) / 2 }

func tmCheckFsp(what string, fsp int) error {
	if fsp < 0 || fsp > tmMaxFsp {
		return fmt.Errorf("%s(%d): bad fractional precision: %w", what, fsp, errBadValue)
	}
	return nil
}

func tmShort(what string, fsp, have, need int) error {
	return fmt.Errorf("%s(%d): %d of %d bytes: %w", what, fsp, have, need, errShortValue)
}

// appendTime2 renders a TIME2 cell: my_time_packed_from_binary() turns the bytes into the packed
// longlong, TIME_from_longlong_time_packed() and my_time_to_str() print it.
func appendTime2(dst, data []byte, fsp int) ([]byte, int, error) {
	if err := tmCheckFsp("time", fsp); err != nil {
		return dst, 0, err
	}
	n := 3 + tmFracBytes(fsp)
	if len(data) < n {
		return dst, 0, tmShort("time", fsp, len(data), n)
	}
	intpart := int64(be24(data)) - tmTimeIntOfs
	var packed int64
	switch fsp {
	case 0:
		packed = intpart << 24
	case 1, 2:
		// Negative values store the fraction as 0x100-frac counted from the next integer, so
		// that the bytes sort like the times: -00:00:01.01 is 7FFFFE.FF.
		frac := int64(data[3])
		if intpart < 0 && frac != 0 {
			intpart++
			frac -= 0x100
		}
		packed = intpart<<24 + frac*10000
	case 3, 4:
		frac := int64(binary.BigEndian.Uint16(data[3:]))
		if intpart < 0 && frac != 0 {
			intpart++
			frac -= 0x10000
		}
		packed = intpart<<24 + frac*100
	default:
		// With 3 fraction bytes the whole 6 bytes are the packed value plus TIMEF_OFS.
		packed = int64(be24(data))<<24 | int64(be24(data[3:]))
		packed -= tmTimeOfs
	}
	start := len(dst)
	dst, err := appendPackedTime(dst, packed, fsp)
	if err != nil {
		return dst[:start], 0, fmt.Errorf("time(%d): %w", fsp, err)
	}
	return dst, n, nil
}

// appendPackedTime prints a packed TIME longlong (hour<<12|minute<<6|second)<<24 + microseconds,
// negated for negative times, as my_time_to_str() does: at least two hour digits, fsp fraction
// digits cut (not rounded) from the microseconds.
func appendPackedTime(dst []byte, packed int64, fsp int) ([]byte, error) {
	if packed < 0 {
		packed = -packed
		if packed < 0 { // math.MinInt64 has no positive counterpart
			return dst, fmt.Errorf("packed value out of range: %w", errBadValue)
		}
		dst = append(dst, '-')
	}
	hms := packed >> 24
	frac := packed % (1 << 24)
	if frac > 999999 {
		return dst, fmt.Errorf("fraction %d out of range: %w", frac, errBadValue)
	}
	if err := checkClock(int((hms>>12)%(1<<10)), int((hms>>6)%(1<<6)), int(hms%(1<<6)), tmMaxTimeHour); err != nil {
		return dst, err
	}
	dst = appendZeroPad(dst, uint64((hms>>12)%(1<<10)), 2)
	dst = append(dst, ':')
	dst = append2Digits(dst, int((hms>>6)%(1<<6)))
	dst = append(dst, ':')
	dst = append2Digits(dst, int(hms%(1<<6)))
	return appendFraction(dst, uint32(frac), fsp), nil
}

// tmMaxTimeHour is TIME's largest hour (TIME_MAX_HOUR): no server stores beyond 838:59:59.
const tmMaxTimeHour = 838

// checkClock refuses clock fields no server stores: the packed and decimal encodings have room
// for hour 31 (DATETIME) or 1023 (TIME) and minute or second 63, so without a checksum a flipped
// bit there is caught only here.
func checkClock(hour, minute, second, maxHour int) error {
	if hour > maxHour || minute > 59 || second > 59 {
		return fmt.Errorf("clock %d:%d:%d out of range: %w", hour, minute, second, errBadValue)
	}
	return nil
}

// checkDate refuses a month or day no server stores (zero ones are valid: zero dates).
func checkDate(month, day int) error {
	if month > 12 || day > 31 {
		return fmt.Errorf("month %d day %d out of range: %w", month, day, errBadValue)
	}
	return nil
}

// appendDatetime2 renders a DATETIME2 cell: my_datetime_packed_from_binary(), then
// TIME_from_longlong_datetime_packed() and my_datetime_to_str(). The 40-bit integer part is
// year*13+month (17 bits), day (5), hour (5), minute (6), second (6); the fraction bytes are
// read signed, like the server does.
func appendDatetime2(dst, data []byte, fsp int) ([]byte, int, error) {
	if err := tmCheckFsp("datetime", fsp); err != nil {
		return dst, 0, err
	}
	n := 5 + tmFracBytes(fsp)
	if len(data) < n {
		return dst, 0, tmShort("datetime", fsp, len(data), n)
	}
	intpart := (int64(data[0])<<32 | int64(binary.BigEndian.Uint32(data[1:]))) - tmDatetimeIntOfs
	var frac int64
	switch fsp {
	case 1, 2:
		frac = int64(int8(data[5])) * 10000
	case 3, 4:
		frac = int64(int16(binary.BigEndian.Uint16(data[5:]))) * 100
	case 5, 6:
		frac = int64(int32(be24(data[5:])<<8) >> 8)
	}
	start := len(dst)
	dst, err := appendPackedDatetime(dst, intpart<<24+frac, fsp, false)
	if err != nil {
		return dst[:start], 0, fmt.Errorf("datetime(%d): %w", fsp, err)
	}
	return dst, n, nil
}

// appendPackedDatetime prints a packed DATETIME longlong ((year*13+month)<<22 | day<<17 |
// hour<<12 | minute<<6 | second)<<24 + microseconds. No server writes a negative one, and the
// text has no place for a sign or a fifth year digit, so those are errors, and so
// are clock fields past their range (checkClock).
func appendPackedDatetime(dst []byte, packed int64, fsp int, dateOnly bool) ([]byte, error) {
	if packed < 0 {
		return dst, fmt.Errorf("negative packed value: %w", errBadValue)
	}
	frac := packed % (1 << 24)
	if frac > 999999 {
		return dst, fmt.Errorf("fraction %d out of range: %w", frac, errBadValue)
	}
	ymdhms := packed >> 24
	ymd := ymdhms >> 17
	ym := ymd >> 5
	hms := ymdhms % (1 << 17)
	year := ym / 13
	if year > 9999 {
		return dst, fmt.Errorf("year %d out of range: %w", year, errBadValue)
	}
	if !dateOnly {
		if err := checkClock(int(hms>>12), int((hms>>6)%(1<<6)), int(hms%(1<<6)), 23); err != nil {
			return dst, err
		}
	}
	dst = appendYMD(dst, year, int(ym%13), int(ymd%(1<<5)))
	if dateOnly {
		return dst, nil
	}
	dst = append(dst, ' ')
	dst = appendClock(dst, int(hms>>12), int((hms>>6)%(1<<6)), int(hms%(1<<6)))
	return appendFraction(dst, uint32(frac), fsp), nil
}

// appendTimestamp2 renders a TIMESTAMP2 cell (my_timestamp_from_binary()): big-endian unix seconds,
// then the fraction (the fsp 3/4 and 5/6 forms read signed). The text is in UTC. Second 0 is the
// zero timestamp, which the server prints without its fraction bits.
func appendTimestamp2(dst, data []byte, fsp int) ([]byte, int, error) {
	if err := tmCheckFsp("timestamp", fsp); err != nil {
		return dst, 0, err
	}
	n := 4 + tmFracBytes(fsp)
	if len(data) < n {
		return dst, 0, tmShort("timestamp", fsp, len(data), n)
	}
	sec := binary.BigEndian.Uint32(data)
	var usec int64
	switch fsp {
	case 1, 2:
		usec = int64(data[4]) * 10000
	case 3, 4:
		usec = int64(int16(binary.BigEndian.Uint16(data[4:]))) * 100
	case 5, 6:
		usec = int64(int32(be24(data[4:])<<8) >> 8)
	}
	if usec < 0 || usec > 999999 {
		return dst, 0, fmt.Errorf("timestamp(%d): fraction %d out of range: %w", fsp, usec, errBadValue)
	}
	if sec == 0 {
		usec = 0
	}
	return appendFraction(appendUnixTime(dst, sec), uint32(usec), fsp), n, nil
}

// appendTimestamp renders a pre-5.6 TIMESTAMP cell: little-endian unix seconds, 0 being the zero
// timestamp.
func appendTimestamp(dst, data []byte) ([]byte, int, error) {
	if len(data) < 4 {
		return dst, 0, fmt.Errorf("timestamp: %d of 4 bytes: %w", len(data), errShortValue)
	}
	return appendUnixTime(dst, binary.LittleEndian.Uint32(data)), 4, nil
}

// appendUnixTime prints unix seconds as a UTC "YYYY-MM-DD HH:MM:SS", and 0 as the zero timestamp.
func appendUnixTime(dst []byte, sec uint32) []byte {
	if sec == 0 {
		return append(dst, "0000-00-00 00:00:00"...)
	}
	days := int64(sec / 86400)
	rem := int(sec % 86400)
	// civil_from_days() by Howard Hinnant, for days since 1970-01-01 >= 0.
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if mp >= 10 {
		month = mp - 9
	}
	year := yoe + era*400
	if month <= 2 {
		year++
	}
	dst = appendYMD(dst, year, int(month), int(day))
	dst = append(dst, ' ')
	return appendClock(dst, rem/3600, rem/60%60, rem%60)
}

// appendDatetime renders a pre-5.6 DATETIME cell: a little-endian uint64 holding the decimal
// number YYYYMMDDhhmmss.
func appendDatetime(dst, data []byte) ([]byte, int, error) {
	if len(data) < 8 {
		return dst, 0, fmt.Errorf("datetime: %d of 8 bytes: %w", len(data), errShortValue)
	}
	v := binary.LittleEndian.Uint64(data)
	ymd, hms := v/1000000, v%1000000
	if ymd/10000 > 9999 {
		return dst, 0, fmt.Errorf("datetime: %d out of range: %w", v, errBadValue)
	}
	if err := checkDate(int(ymd/100%100), int(ymd%100)); err != nil {
		return dst, 0, fmt.Errorf("datetime: %w", err)
	}
	if err := checkClock(int(hms/10000), int(hms/100%100), int(hms%100), 23); err != nil {
		return dst, 0, fmt.Errorf("datetime: %w", err)
	}
	dst = appendYMD(dst, int64(ymd/10000), int(ymd/100%100), int(ymd%100))
	dst = append(dst, ' ')
	return appendClock(dst, int(hms/10000), int(hms/100%100), int(hms%100)), 8, nil
}

// appendTime renders a pre-5.6 TIME cell: a little-endian signed 24-bit decimal number
// [-]HHMMSS (Field_time::get_date_internal()).
func appendTime(dst, data []byte) ([]byte, int, error) {
	if len(data) < 3 {
		return dst, 0, fmt.Errorf("time: %d of 3 bytes: %w", len(data), errShortValue)
	}
	v := int32(uint32(data[0])<<8|uint32(data[1])<<16|uint32(data[2])<<24) >> 8
	if err := checkClock(int(abs(v)/10000), int(abs(v)/100%100), int(abs(v)%100), tmMaxTimeHour); err != nil {
		return dst, 0, fmt.Errorf("time: %w", err)
	}
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	dst = appendZeroPad(dst, uint64(v/10000), 2)
	dst = append(dst, ':')
	dst = append2Digits(dst, int(v/100%100))
	dst = append(dst, ':')
	return append2Digits(dst, int(v%100)), 3, nil
}

// appendDate renders a DATE cell (NEWDATE on the wire): 3 little-endian bytes,
// year<<9 | month<<5 | day.
func appendDate(dst, data []byte) ([]byte, int, error) {
	if len(data) < 3 {
		return dst, 0, fmt.Errorf("date: %d of 3 bytes: %w", len(data), errShortValue)
	}
	v := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16
	if v>>9 > 9999 {
		return dst, 0, fmt.Errorf("date: year %d out of range: %w", v>>9, errBadValue)
	}
	if err := checkDate(int(v>>5&15), int(v&31)); err != nil {
		return dst, 0, fmt.Errorf("date: %w", err)
	}
	return appendYMD(dst, int64(v>>9), int(v>>5&15), int(v&31)), 3, nil
}

// appendYMD prints "YYYY-MM-DD"; year <= 9999, month and day < 100.
func appendYMD(dst []byte, year int64, month, day int) []byte {
	dst = appendZeroPad(dst, uint64(year), 4)
	dst = append(dst, '-')
	dst = append2Digits(dst, month)
	dst = append(dst, '-')
	return append2Digits(dst, day)
}

// appendClock prints "HH:MM:SS"; every field < 100.
func appendClock(dst []byte, hour, minute, second int) []byte {
	dst = append2Digits(dst, hour)
	dst = append(dst, ':')
	dst = append2Digits(dst, minute)
	dst = append(dst, ':')
	return append2Digits(dst, second)
}

// appendFraction prints "." and the first fsp digits of the 6-digit microseconds
// (my_useconds_to_str() truncates, it does not round); nothing for fsp 0.
func appendFraction(dst []byte, usec uint32, fsp int) []byte {
	if fsp == 0 {
		return dst
	}
	dst = append(dst, '.')
	return appendZeroPad(dst, uint64(usec/decPow10[tmMaxFsp-fsp]), fsp)
}

func append2Digits(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

func be24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }

func abs(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}
