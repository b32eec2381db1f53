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
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(f) {
		return 0, errNotNumber
	}
	if err != nil {
		return 0, errNotNumber
	}
	return f, nil
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
	x, _, err := big.ParseFloat(string(b), 10, longDoublePrec, big.ToNearestEven)
	if err != nil || x.MantExp(nil) > 16384 {
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
