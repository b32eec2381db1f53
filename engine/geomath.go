package engine

import (
	"math"
	"math/big"
)

// Correctly rounded sine, cosine and arcsine for the GEO commands.
//
// Redis computes distances with the C library's sin, cos and asin;
// glibc's are correctly rounded in all but rare cases, Go's math package
// is within an ulp or so. A last-bit difference shows in a distance that
// GEOSEARCHSTORE ... STOREDIST stores (ZSCORE prints 17 digits), and can
// move a member across a radius, so the GEO code evaluates these three
// in double-double arithmetic (about 106 bits) and rounds once.
// Arguments far outside the range the GEO code uses (|x| > 8, which
// only absurd radii produce, and then only for bounds that no longer
// matter) fall back to the math package.

// dd is a double-double: the unevaluated sum hi + lo, |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func (a dd) add(b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s = quickTwoSum(s.hi, s.lo+t.hi)
	return quickTwoSum(s.hi, s.lo+t.lo)
}

func (a dd) mul(b dd) dd {
	p := twoProd(a.hi, b.hi)
	return quickTwoSum(p.hi, p.lo+(a.hi*b.lo+a.lo*b.hi))
}

func (a dd) neg() dd { return dd{-a.hi, -a.lo} }

// ddInvFact[n] is 1/n! as a double-double.
var ddInvFact = func() [28]dd {
	var t [28]dd
	f := new(big.Float).SetPrec(200).SetInt64(1)
	for n := range t {
		if n > 0 {
			f.Mul(f, new(big.Float).SetInt64(int64(n)))
		}
		inv := new(big.Float).SetPrec(200).Quo(big.NewFloat(1).SetPrec(200), f)
		hi, _ := inv.Float64()
		lo, _ := new(big.Float).SetPrec(200).Sub(inv, big.NewFloat(hi)).Float64()
		t[n] = dd{hi, lo}
	}
	return t
}()

// π/2 in three parts, for the argument reduction.
const (
	pio2Hi  = 1.5707963267948966
	pio2Mid = 6.123233995736766e-17
	pio2Lo  = -1.4973849048591698e-33
)

// sinCosDD returns sin and cos of x (|x| <= 8) as double-doubles:
// x is reduced by a multiple of π/2 to |r| <= π/4, where the Taylor
// series converge fast.
func sinCosDD(x float64) (sin, cos dd) {
	k := math.Round(x / pio2Hi)
	r := dd{x, 0}.add(twoProd(k, pio2Hi).neg()).add(twoProd(k, pio2Mid).neg()).add(dd{-k * pio2Lo, 0})
	r2 := r.mul(r)
	// sin r = r (1 - r²/3! + r⁴/5! - ...), cos r = 1 - r²/2! + r⁴/4! - ...
	s, c := dd{}, dd{}
	for n := 13; n >= 0; n-- {
		sc, cc := ddInvFact[2*n+1], ddInvFact[2*n]
		if n%2 == 1 {
			sc, cc = sc.neg(), cc.neg()
		}
		s = s.mul(r2).add(sc)
		c = c.mul(r2).add(cc)
	}
	s = s.mul(r)
	switch int64(k) & 3 {
	case 0:
		return s, c
	case 1:
		return c, s.neg()
	case 2:
		return s.neg(), c.neg()
	default:
		return c.neg(), s
	}
}

func geoSin(x float64) float64 {
	if !(math.Abs(x) <= 8) {
		return math.Sin(x)
	}
	s, _ := sinCosDD(x)
	return s.hi + s.lo
}

func geoCos(x float64) float64 {
	if !(math.Abs(x) <= 8) {
		return math.Cos(x)
	}
	_, c := sinCosDD(x)
	return c.hi + c.lo
}

// geoAsin refines the math package's arcsine by one Newton step on
// sin y = x in double-double.
func geoAsin(x float64) float64 {
	y := math.Asin(x)
	if !(math.Abs(x) < 1) || x == 0 {
		return y
	}
	s, c := sinCosDD(y)
	resid := s.add(dd{-x, 0})
	delta := (resid.hi + resid.lo) / (c.hi + c.lo)
	r := dd{y, 0}.add(dd{-delta, 0})
	return r.hi + r.lo
}
