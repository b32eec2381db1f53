package engine

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// HyperLogLog: PFADD, PFCOUNT and PFMERGE, with Redis's representation
// byte for byte (hyperloglog.c of Redis 7.0): a string value of a 16-byte
// header ("HYLL", the encoding, 3 unused bytes, a cardinality cache) and
// 16384 6-bit registers, sparse (run-length opcodes) until they need more
// than hllSparseMaxBytes or a register passes 32, then dense. The same
// element lands in the same register with the same value as in Redis
// (MurmurHash64A, seed 0xadc83b19), and the estimate is Redis's (Ertl's
// improved estimator), so counts agree with Redis's.
//
// One difference: PFCOUNT does not store the count it computes in the
// value's cache, as Redis does. Redis's PFCOUNT writes a read-only
// command's result into the dataset and logs it; here it stays a read,
// which a replica may serve. The count is the same; the value's cache
// bytes then differ from Redis's.
func init() {
	register(
		&Command{Spec{Name: "pfadd", Arity: -2, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "hyperloglog", Summary: "Adds the specified elements to the specified HyperLogLog."}, cmdPFAdd},
		&Command{Spec{Name: "pfcount", Arity: -2, Flags: ReadOnly, FirstKey: 1, LastKey: -1, Step: 1, Group: "hyperloglog", Summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s)."}, cmdPFCount},
		&Command{Spec{Name: "pfmerge", Arity: -2, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 1, Group: "hyperloglog", Summary: "Merge N different HyperLogLogs into a single one."}, cmdPFMerge},
	)
}

const (
	hllP              = 14
	hllQ              = 64 - hllP
	hllRegisters      = 1 << hllP
	hllPMask          = hllRegisters - 1
	hllBits           = 6
	hllRegisterMax    = 1<<hllBits - 1
	hllHdrSize        = 16
	hllDenseSize      = hllHdrSize + (hllRegisters*hllBits+7)/8
	hllDense          = 0
	hllSparse         = 1
	hllSparseMaxBytes = 3000 // Redis's hll-sparse-max-bytes default
	hllAlphaInf       = 0.721347520444481703680

	hllSparseValMaxValue = 32
	hllSparseValMaxLen   = 4
	hllSparseZeroMaxLen  = 64
	hllSparseXZeroMaxLen = 16384
)

const (
	errHLLWrongType = "WRONGTYPE Key is not a valid HyperLogLog string value."
	errHLLInvalid   = "INVALIDOBJ Corrupted HLL object detected"
)

// newHLL is an empty HyperLogLog: sparse, one XZERO opcode for all
// registers.
func newHLL() []byte {
	h := make([]byte, hllHdrSize, hllHdrSize+2)
	copy(h, "HYLL")
	h[4] = hllSparse
	return append(h, 0x40|byte((hllSparseXZeroMaxLen-1)>>8), byte((hllSparseXZeroMaxLen-1)&0xff))
}

// validHLL is Redis's isHLLObjectOrReply check of a string value.
func validHLL(v []byte) bool {
	if len(v) < hllHdrSize || string(v[:4]) != "HYLL" || v[4] > hllSparse {
		return false
	}
	return v[4] != hllDense || len(v) == hllDenseSize
}

func hllInvalidateCache(h []byte) { h[15] |= 1 << 7 }

// murmurHash64A is Redis's MurmurHash64A, reading little-endian words.
func murmurHash64A(key []byte, seed uint64) uint64 {
	const m, r = 0xc6a4a7935bd1e995, 47
	h := seed ^ uint64(len(key))*m
	n := len(key) &^ 7
	for i := 0; i < n; i += 8 {
		k := binary.LittleEndian.Uint64(key[i:])
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	if rest := key[n:]; len(rest) > 0 {
		for i := len(rest) - 1; i >= 0; i-- {
			h ^= uint64(rest[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// hllPatLen returns the register an element goes to and the length of
// its hash's run of zeros plus one.
func hllPatLen(ele []byte) (index int, count uint8) {
	hash := murmurHash64A(ele, 0xadc83b19)
	index = int(hash & hllPMask)
	hash >>= hllP
	hash |= 1 << hllQ
	return index, uint8(bits.TrailingZeros64(hash) + 1)
}

func hllDenseGet(regs []byte, i int) uint8 {
	byteIdx, fb := i*hllBits/8, uint(i*hllBits&7)
	b0, b1 := uint(regs[byteIdx]), uint(0)
	if byteIdx+1 < len(regs) {
		b1 = uint(regs[byteIdx+1])
	}
	return uint8((b0>>fb | b1<<(8-fb)) & hllRegisterMax)
}

func hllDenseSetReg(regs []byte, i int, val uint8) {
	byteIdx, fb := i*hllBits/8, uint(i*hllBits&7)
	v := uint(val)
	regs[byteIdx] &^= byte(hllRegisterMax << fb)
	regs[byteIdx] |= byte(v << fb)
	if byteIdx+1 < len(regs) {
		regs[byteIdx+1] &^= byte(hllRegisterMax >> (8 - fb))
		regs[byteIdx+1] |= byte(v >> (8 - fb))
	}
}

// hllDenseSet raises register i to count; it reports whether it changed.
func hllDenseSet(regs []byte, i int, count uint8) bool {
	if hllDenseGet(regs, i) >= count {
		return false
	}
	hllDenseSetReg(regs, i, count)
	return true
}

// The sparse opcodes.
func isZero(b byte) bool  { return b&0xc0 == 0 }
func isXZero(b byte) bool { return b&0xc0 == 0x40 }
func isVal(b byte) bool   { return b&0x80 != 0 }
func zeroLen(b byte) int  { return int(b&0x3f) + 1 }
func xzeroLen(p []byte) int {
	return (int(p[0]&0x3f)<<8 | int(p[1])) + 1
}
func valValue(b byte) uint8       { return (b>>2)&0x1f + 1 }
func valLen(b byte) int           { return int(b&0x3) + 1 }
func valOp(val uint8, n int) byte { return byte((val-1)<<2|byte(n-1)) | 0x80 }
func zeroOp(n int) byte           { return byte(n - 1) }
func xzeroOp(n int) (byte, byte)  { return byte((n-1)>>8) | 0x40, byte((n - 1) & 0xff) }
func appendZeros(s []byte, n int) []byte {
	if n > hllSparseZeroMaxLen {
		a, b := xzeroOp(n)
		return append(s, a, b)
	}
	return append(s, zeroOp(n))
}

// hllToDense converts a sparse value; nil when it is corrupt.
func hllToDense(h []byte) []byte {
	if h[4] == hllDense {
		return h
	}
	d := make([]byte, hllDenseSize)
	copy(d, h[:hllHdrSize])
	d[4] = hllDense
	regs := d[hllHdrSize:]
	if !hllSparseRuns(h, func(idx int, v uint8) { hllDenseSetReg(regs, idx, v) }) {
		return nil
	}
	return d
}

// hllSparseRuns calls set for every register a sparse value's VAL
// opcodes give, in order; it reports whether the opcodes cover exactly
// the registers, as a valid value's do.
func hllSparseRuns(h []byte, set func(idx int, v uint8)) bool {
	idx := 0
	for p := hllHdrSize; p < len(h); {
		switch b := h[p]; {
		case isZero(b):
			idx += zeroLen(b)
			p++
		case isXZero(b):
			if p+1 >= len(h) {
				return false
			}
			idx += xzeroLen(h[p:])
			p += 2
		default:
			n, v := valLen(b), valValue(b)
			if idx+n > hllRegisters {
				return false
			}
			for ; n > 0; n-- {
				set(idx, v)
				idx++
			}
			p++
		}
	}
	return idx == hllRegisters
}

// hllSparseSet raises register index to count in a sparse value, as
// Redis's hllSparseSet does, opcode for opcode. It returns the new value
// (dense when it had to be promoted), whether it changed, and false for
// ok when the value is corrupt.
func hllSparseSet(h []byte, index int, count uint8) (out []byte, changed, ok bool) {
	if count > hllSparseValMaxValue {
		return hllPromote(h, index, count)
	}
	// Step 1: find the opcode that covers index.
	p, first, span, prev := hllHdrSize, 0, 0, -1
	for p < len(h) {
		oplen := 1
		switch b := h[p]; {
		case isZero(b):
			span = zeroLen(b)
		case isVal(b):
			span = valLen(b)
		default:
			if p+1 >= len(h) {
				return h, false, false
			}
			span = xzeroLen(h[p:])
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= len(h) {
		return h, false, false
	}
	b := h[p]
	zero, xzero, val := isZero(b), isXZero(b), isVal(b)
	var runlen int
	switch {
	case zero:
		runlen = zeroLen(b)
	case xzero:
		runlen = xzeroLen(h[p:])
	default:
		runlen = valLen(b)
	}
	// Step 2: the cases that need no split.
	switch {
	case val && valValue(b) >= count:
		return h, false, true
	case val && runlen == 1, zero && runlen == 1:
		h[p] = valOp(count, 1)
		return hllSparseMerge(h, prev), true, true
	}
	// The general case: split the opcode into up to three.
	last := first + span - 1
	seq := make([]byte, 0, 5)
	if zero || xzero {
		if index != first {
			seq = appendZeros(seq, index-first)
		}
		seq = append(seq, valOp(count, 1))
		if index != last {
			seq = appendZeros(seq, last-index)
		}
	} else {
		cur := valValue(b)
		if index != first {
			seq = append(seq, valOp(cur, index-first))
		}
		seq = append(seq, valOp(count, 1))
		if index != last {
			seq = append(seq, valOp(cur, last-index))
		}
	}
	// Step 3: put the sequence in place of the opcode.
	oldlen := 1
	if xzero {
		oldlen = 2
	}
	if delta := len(seq) - oldlen; delta > 0 && len(h)+delta > hllSparseMaxBytes {
		return hllPromote(h, index, count)
	}
	out = make([]byte, 0, len(h)+len(seq)-oldlen)
	out = append(append(append(out, h[:p]...), seq...), h[p+oldlen:]...)
	return hllSparseMerge(out, prev), true, true
}

// hllSparseMerge is Redis's step 4: from the opcode before the one
// updated, merge up to five adjacent VAL opcodes of the same value whose
// runs fit one opcode; then the cache is invalidated.
func hllSparseMerge(h []byte, prev int) []byte {
	p := hllHdrSize
	if prev >= 0 {
		p = prev
	}
	for scan := 5; p < len(h) && scan > 0; scan-- {
		switch {
		case isXZero(h[p]):
			p += 2
			continue
		case isZero(h[p]):
			p++
			continue
		}
		if p+1 < len(h) && isVal(h[p+1]) {
			v1, v2 := valValue(h[p]), valValue(h[p+1])
			if n := valLen(h[p]) + valLen(h[p+1]); v1 == v2 && n <= hllSparseValMaxLen {
				h[p+1] = valOp(v1, n)
				h = append(h[:p], h[p+1:]...)
				continue // try the merged opcode with the next one
			}
		}
		p++
	}
	hllInvalidateCache(h)
	return h
}

func hllPromote(h []byte, index int, count uint8) ([]byte, bool, bool) {
	d := hllToDense(h)
	if d == nil {
		return h, false, false
	}
	hllDenseSet(d[hllHdrSize:], index, count)
	return d, true, true
}

// hllAdd adds an element; see hllSparseSet for what it returns.
func hllAdd(h []byte, ele []byte) ([]byte, bool, bool) {
	index, count := hllPatLen(ele)
	if h[4] == hllDense {
		return h, hllDenseSet(h[hllHdrSize:], index, count), true
	}
	return hllSparseSet(h, index, count)
}

// hllMergeInto raises max[i] to each register of h; false when h is
// corrupt.
func hllMergeInto(max []uint8, h []byte) bool {
	if h[4] == hllDense {
		regs := h[hllHdrSize:]
		for i := range max {
			if v := hllDenseGet(regs, i); v > max[i] {
				max[i] = v
			}
		}
		return true
	}
	return hllSparseRuns(h, func(idx int, v uint8) {
		if v > max[idx] {
			max[idx] = v
		}
	})
}

// hllCount estimates the cardinality of registers (Redis's hllCount).
func hllCount(regs []uint8) uint64 {
	var histo [64]int
	for _, r := range regs {
		histo[r]++
	}
	m := float64(hllRegisters)
	z := m * hllTau((m-float64(histo[hllQ+1]))/m)
	for j := hllQ; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += m * hllSigma(float64(histo[0])/m)
	return uint64(math.Round(hllAlphaInf * m * m / z))
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zPrime := z
		z += x * y
		y += y
		if zPrime == z {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zPrime := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if zPrime == z {
			return z / 3
		}
	}
}

// lookupHLL reads key's HyperLogLog: ok false when absent, done true when
// an error reply was written.
func (c *ctx) lookupHLL(key []byte) (m meta, ok, done bool) {
	m, ok, wrong := c.lookupString(key)
	switch {
	case wrong:
		return m, ok, true
	case ok && !validHLL(m.value):
		c.replyError(errHLLWrongType)
		return m, ok, true
	}
	return m, ok, false
}

// PFADD key [element ...]
func cmdPFAdd(c *ctx, args [][]byte) {
	m, ok, done := c.lookupHLL(args[1])
	if done {
		return
	}
	h, updated := m.value, false // lookup's value is this command's own copy
	if !ok {
		h, updated = newHLL(), true
	}
	for _, ele := range args[2:] {
		var changed, valid bool
		if h, changed, valid = hllAdd(h, ele); !valid {
			if updated && ok {
				// A corrupt sparse HLL: Redis keeps the registers the
				// elements before this one set (and the invalidated
				// cache), without an event. The replicas get the value.
				hllInvalidateCache(h)
				c.setString(args[1], &m, h, m.expireAt)
				c.emit(bs("SET"), args[1], h, bs("KEEPTTL"))
			}
			c.replyError(errHLLInvalid)
			return
		}
		updated = updated || changed
	}
	if !updated {
		c.replyInt(0)
		return
	}
	hllInvalidateCache(h)
	var oldp *meta
	if ok {
		oldp = &m
	}
	c.setString(args[1], oldp, h, m.expireAt)
	c.notify(NotifyString, "pfadd", args[1])
	c.emit(args...) // deterministic from the value before, which the replica has
	c.replyInt(1)
}

// PFCOUNT key [key ...]
func cmdPFCount(c *ctx, args [][]byte) {
	if len(args) == 2 { // a cache that is valid answers, as in Redis
		m, ok, done := c.lookupHLL(args[1])
		if done {
			return
		}
		if ok && m.value[15]&(1<<7) == 0 {
			c.replyInt(int64(binary.LittleEndian.Uint64(m.value[8:16])))
			return
		}
	}
	regs := make([]uint8, hllRegisters)
	for _, key := range args[1:] {
		m, ok, done := c.lookupHLL(key)
		if done {
			return
		}
		if ok && !hllMergeInto(regs, m.value) {
			c.replyError(errHLLInvalid)
			return
		}
	}
	c.replyInt(int64(hllCount(regs)))
}

// PFMERGE destkey [sourcekey ...]
func cmdPFMerge(c *ctx, args [][]byte) {
	regs := make([]uint8, hllRegisters)
	dense := false
	var dest meta
	var destOK bool
	for i, key := range args[1:] {
		var m meta
		var ok, done bool
		c.reading(func() { m, ok, done = c.lookupHLL(key) })
		if done {
			return
		}
		if !ok {
			continue
		}
		if i == 0 {
			dest, destOK = m, true
		}
		dense = dense || m.value[4] == hllDense
		if !hllMergeInto(regs, m.value) {
			c.replyError(errHLLInvalid)
			return
		}
	}
	h := newHLL()
	if destOK {
		h = dest.value // lookup's copy
	}
	if dense {
		if h = hllToDense(h); h == nil {
			c.replyError(errHLLInvalid)
			return
		}
	}
	for i, v := range regs {
		if v == 0 {
			continue
		}
		if h[4] == hllDense {
			hllDenseSet(h[hllHdrSize:], i, v)
		} else {
			h, _, _ = hllSparseSet(h, i, v)
		}
	}
	hllInvalidateCache(h)
	var oldp *meta
	if destOK {
		oldp = &dest
	}
	c.setString(args[1], oldp, h, dest.expireAt)
	c.notify(NotifyString, "pfadd", args[1])
	// The merged value, not the merge: a replica does not evaluate the
	// sources' expiry, so it could merge a source the master found gone.
	c.emit(bs("SET"), args[1], h, bs("KEEPTTL"))
	c.replyOK()
}
