package binlog

import (
	"fmt"
	"strconv"
)

// Errors of the cell decoders. Both wrap ErrCorrupt: a cell that is short or holds bits no server
// writes means the event (or the table map describing it) is damaged.
var (
	errShortValue = fmt.Errorf("%w: value truncated", ErrCorrupt)
	errBadValue   = fmt.Errorf("%w: invalid value", ErrCorrupt)
)

// Limits of DECIMAL(M,D): DECIMAL_MAX_PRECISION, and DECIMAL_MAX_SCALE, which is 30 in MySQL but
// 38 in MariaDB since 10.2.1 (MDEV-10138); the binary format is the same.
const (
	decMaxPrecision = 65
	decMaxScale     = 38
	decGroupDigits  = 9 // DIG_PER_DEC1: decimal2bin packs 9 digits in each 4-byte word
)

// decDig2Bytes is dig2bytes from strings/decimal.cc: the bytes a group of fewer than 9 digits takes.
var decDig2Bytes = [decGroupDigits + 1]int{0, 1, 1, 2, 2, 3, 3, 4, 4, 4}

var decPow10 = [decGroupDigits + 1]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// decimalBinSize is decimal_bin_size() from strings/decimal.cc. It returns 0 when precision or
// scale are outside what the server allows; a valid value always takes at least one byte.
func decimalBinSize(precision, scale int) int {
	if precision < 1 || precision > decMaxPrecision || scale < 0 || scale > decMaxScale || scale > precision {
		return 0
	}
	intg := precision - scale
	return intg/decGroupDigits*4 + decDig2Bytes[intg%decGroupDigits] +
		scale/decGroupDigits*4 + decDig2Bytes[scale%decGroupDigits]
}

// appendDecimal renders a NEWDECIMAL cell the way decimal2string() prints the result of
// bin2decimal() (strings/decimal.cc): the integer part without leading zeros, then exactly scale
// fraction digits.
//
// decimal2bin() stores the integer digits right-aligned (a leading group of intg%9 digits, then
// whole 9-digit words) and the fraction digits left-aligned (whole words, then a trailing group of
// scale%9 digits), every group big-endian. A negative number has every byte inverted, and the
// top bit of the first byte is flipped so that the bytes sort like the numbers.
func appendDecimal(dst, data []byte, precision, scale int) ([]byte, int, error) {
	size := decimalBinSize(precision, scale)
	if size == 0 {
		return dst, 0, fmt.Errorf("decimal(%d,%d): bad precision or scale: %w", precision, scale, errBadValue)
	}
	if len(data) < size {
		return dst, 0, fmt.Errorf("decimal(%d,%d): %d of %d bytes: %w", precision, scale, len(data), size, errShortValue)
	}
	b := data[:size]
	var mask byte // XORed into every byte to undo the inversion of negative numbers
	if b[0]&0x80 == 0 {
		mask = 0xff
	}
	start := len(dst)
	if mask != 0 {
		dst = append(dst, '-')
	}

	intg := precision - scale
	pos := 0
	nonZero := false // an integer digit other than a leading zero has been written
	if lead := intg % decGroupDigits; lead > 0 {
		n := decDig2Bytes[lead]
		v := decGroup(b, pos, n, mask)
		pos += n
		if v >= decPow10[lead] {
			return dst[:start], 0, decDigitsError(precision, scale, v)
		}
		if v != 0 {
			dst = strconv.AppendUint(dst, uint64(v), 10)
			nonZero = true
		}
	}
	for range intg / decGroupDigits {
		v := decGroup(b, pos, 4, mask)
		pos += 4
		if v >= decPow10[decGroupDigits] {
			return dst[:start], 0, decDigitsError(precision, scale, v)
		}
		switch {
		case nonZero:
			dst = appendZeroPad(dst, uint64(v), decGroupDigits)
		case v != 0:
			dst = strconv.AppendUint(dst, uint64(v), 10)
			nonZero = true
		}
	}
	if !nonZero {
		if scale == 0 && mask != 0 {
			// bin2decimal() turns a digitless number into decimal_make_zero(), which drops the
			// sign; with a fraction part the sign of a negative zero survives ("-0.00").
			dst = dst[:start]
		}
		dst = append(dst, '0')
	}
	if scale == 0 {
		return dst, size, nil
	}

	dst = append(dst, '.')
	for range scale / decGroupDigits {
		v := decGroup(b, pos, 4, mask)
		pos += 4
		if v >= decPow10[decGroupDigits] {
			return dst[:start], 0, decDigitsError(precision, scale, v)
		}
		dst = appendZeroPad(dst, uint64(v), decGroupDigits)
	}
	if trail := scale % decGroupDigits; trail > 0 {
		v := decGroup(b, pos, decDig2Bytes[trail], mask)
		if v >= decPow10[trail] {
			return dst[:start], 0, decDigitsError(precision, scale, v)
		}
		dst = appendZeroPad(dst, uint64(v), trail)
	}
	return dst, size, nil
}

// decGroup reads the n-byte big-endian group at b[pos:], undoing the sign encoding.
func decGroup(b []byte, pos, n int, mask byte) uint32 {
	var v uint32
	for i := pos; i < pos+n; i++ {
		c := b[i] ^ mask
		if i == 0 {
			c ^= 0x80
		}
		v = v<<8 | uint32(c)
	}
	return v
}

// decDigitsError reports a digit group holding more digits than its width, which bin2decimal()
// rejects as E_DEC_BAD_NUM.
func decDigitsError(precision, scale int, v uint32) error {
	return fmt.Errorf("decimal(%d,%d): digit group %d out of range: %w", precision, scale, v, errBadValue)
}

// appendZeroPad appends v in decimal, left-padded with zeros to at least width digits (width <= 20).
func appendZeroPad(dst []byte, v uint64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	for len(buf)-i < width {
		i--
		buf[i] = '0'
	}
	return append(dst, buf[i:]...)
}
