package engine

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

var errNotNumber = errors.New("not a number")

// ParseInt parses an integer argument as Redis does (string2ll):
// decimal, no spaces, no '+', no leading zeros, no "-0".
func ParseInt(b []byte) (int64, error) { return parseInt(b) }

// parseInt parses a Redis integer argument: decimal, no spaces, no '+'.
func parseInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 20 || b[0] == '+' || (len(b) > 1 && b[0] == '0') || (len(b) > 1 && b[0] == '-' && b[1] == '0') {
		return 0, errNotNumber
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, errNotNumber
	}
	return n, nil
}

// parseFloat parses a Redis float argument (inf, -inf, +inf accepted; NaN
// and spaces refused).
func parseFloat(b []byte) (float64, error) {
	if len(b) == 0 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return 0, errNotNumber
	}
	s := string(b)
	switch strings.ToLower(s) {
	case "inf", "+inf", "infinity", "+infinity":
		return math.Inf(1), nil
	case "-inf", "-infinity":
		return math.Inf(-1), nil
	}
	goSyntax, ok := strtodSyntax(s)
	if !ok {
		return 0, errNotNumber
	}
	f, err := strconv.ParseFloat(goSyntax, 64)
	if err != nil || math.IsNaN(f) || f == 0 && nonzeroMantissa(s) {
		return 0, errNotNumber // overflow, or underflow to zero: strtod's ERANGE
	}
	return f, nil
}

// strtodSyntax rewrites a float argument that C's strtod takes into the
// syntax Go's parsers take for it: a hexadecimal mantissa needs an
// exponent in Go ("0x10" is "0x10p0"). ok is false for what strtod
// refuses and Go would take: digit separators, binary and octal.
func strtodSyntax(s string) (goSyntax string, ok bool) {
	if strings.ContainsRune(s, '_') {
		return "", false
	}
	body := strings.TrimLeft(s, "+-")
	if len(body) < 2 || body[0] != '0' {
		return s, true
	}
	switch body[1] {
	case 'x', 'X':
		if !strings.ContainsAny(body, "pP") {
			return s + "p0", true
		}
	case 'b', 'B', 'o', 'O':
		return "", false
	}
	return s, true
}

// nonzeroMantissa reports whether a float argument has a digit other
// than zero before its exponent: one that parses as zero then underflowed,
// which strtod reports as ERANGE and Redis refuses.
func nonzeroMantissa(s string) bool {
	s = strings.TrimLeft(s, "+-")
	digits, exp := "123456789", "eE"
	if len(s) > 1 && (s[1] == 'x' || s[1] == 'X') {
		s, digits, exp = s[2:], "123456789abcdefABCDEF", "pP"
	}
	if i := strings.IndexAny(s, exp); i >= 0 {
		s = s[:i]
	}
	return strings.ContainsAny(s, digits)
}

// formatFloat formats an INCRBYFLOAT result the way Redis's human
// long-double format reads: no exponent, no trailing zeros.
func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "inf"
	}
	if math.IsInf(f, -1) {
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if s == "-0" {
		s = "0"
	}
	return s
}

// formatScore formats a double like Redis's ZSCORE / %.17g replies.
func formatScore(f float64) string { return string(appendScore(nil, f)) }

// appendScore appends f as formatScore formats it.
func appendScore(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// Redis computes INCRBYFLOAT and HINCRBYFLOAT in x87 long double (64-bit
// mantissa) and prints the result with "%.17Lf", trailing zeros cut. A
// big.Float of precision 64 rounds exactly like it, so replies match
// Redis digit for digit.
const longDoublePrec = 64

// parseLongDouble parses a float argument as strtold would, refusing
// spaces, NaN and empty strings.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) > 5*1024 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return nil, false
	}
	switch strings.ToLower(string(b)) {
	case "inf", "+inf", "infinity", "+infinity":
		return new(big.Float).SetPrec(longDoublePrec).SetInf(false), true
	case "-inf", "-infinity":
		return new(big.Float).SetPrec(longDoublePrec).SetInf(true), true
	}
	s, ok := strtodSyntax(string(b))
	if !ok {
		return nil, false
	}
	x, _, err := big.ParseFloat(s, 0, longDoublePrec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	// Past long double's range strtold overflows; below half its least
	// subnormal, 2^-16445, it underflows to zero: ERANGE either way.
	if exp := x.MantExp(nil); exp > 16384 || x.Sign() != 0 && exp < -16445 || x.Sign() == 0 && nonzeroMantissa(s) {
		return nil, false
	}
	return x, true
}

// addLongDouble returns a+b rounded to long double, and false when the
// result is infinite (Redis refuses it).
func addLongDouble(a, b *big.Float) (*big.Float, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false
	}
	z := new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven)
	z.Add(a, b)
	// Long double overflows near 1.19e4932.
	if z.MantExp(nil) > 16384 {
		return nil, false
	}
	return z, true
}

// formatLongDouble prints like Redis's ld2string(LD_STR_HUMAN).
func formatLongDouble(x *big.Float) string {
	s := x.Text('f', 17)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
