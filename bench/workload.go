package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// ErrBadWorkload reports a workload spec that cannot be parsed.
var ErrBadWorkload = errors.New("bad workload")

// Op is one kind of command the load generator sends.
type Op string

// The operations a workload can mix. Each uses its own key prefix so that
// operations on different data types never collide on one key (an INCR on a
// string holding a value, an LPUSH on a hash).
const (
	OpGet   Op = "get"
	OpSet   Op = "set"
	OpIncr  Op = "incr"
	OpLPush Op = "lpush"
	OpHSet  Op = "hset"
	OpHGet  Op = "hget"
	OpSAdd  Op = "sadd"
	OpPing  Op = "ping"
)

var opPrefix = map[Op]string{
	OpGet:   "key:",
	OpSet:   "key:",
	OpIncr:  "counter:",
	OpLPush: "list:",
	OpHSet:  "hash:",
	OpHGet:  "hash:",
	OpSAdd:  "set:",
	OpPing:  "",
}

// Command names, allocated once.
var (
	verbGet   = []byte("GET")
	verbSet   = []byte("SET")
	verbIncr  = []byte("INCR")
	verbLpush = []byte("LPUSH")
	verbHset  = []byte("HSET")
	verbHget  = []byte("HGET")
	verbSadd  = []byte("SADD")
	verbPing  = []byte("PING")
)

// Writes reports whether the op changes the dataset.
func (o Op) Writes() bool {
	switch o {
	case OpGet, OpHGet, OpPing:
		return false
	}
	return true
}

// WeightedOp is one op of a mix with its relative weight.
type WeightedOp struct {
	Op     Op  `json:"op"`
	Weight int `json:"weight"`
}

// Workload is a command mix.
type Workload struct {
	Ops []WeightedOp `json:"ops"`
}

// ParseWorkload parses a workload spec. Accepted forms:
//
//	set                  one op
//	get,set,incr         several ops, equal weights
//	set:get=1:9          several ops with the weights after '='
//
// Op names are case-insensitive.
func ParseWorkload(spec string) (Workload, error) {
	spec = strings.TrimSpace(strings.ToLower(spec))
	if spec == "" {
		return Workload{}, fmt.Errorf("%w: empty spec", ErrBadWorkload)
	}
	names, weights, hasWeights := spec, "", false
	if i := strings.IndexByte(spec, '='); i >= 0 {
		names, weights, hasWeights = spec[:i], spec[i+1:], true
	}
	sep := ","
	if hasWeights || (strings.Contains(names, ":") && !strings.Contains(names, ",")) {
		sep = ":"
	}
	var w Workload
	seen := map[Op]bool{}
	for _, n := range strings.Split(names, sep) {
		op := Op(strings.TrimSpace(n))
		if _, ok := opPrefix[op]; !ok {
			return Workload{}, fmt.Errorf("%w: unknown op %q in %q", ErrBadWorkload, n, spec)
		}
		if seen[op] {
			return Workload{}, fmt.Errorf("%w: op %q twice in %q", ErrBadWorkload, op, spec)
		}
		seen[op] = true
		w.Ops = append(w.Ops, WeightedOp{Op: op, Weight: 1})
	}
	if hasWeights {
		ws := strings.Split(weights, ":")
		if len(ws) != len(w.Ops) {
			return Workload{}, fmt.Errorf("%w: %d ops but %d weights in %q", ErrBadWorkload, len(w.Ops), len(ws), spec)
		}
		total := 0
		for i, s := range ws {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 0 || n > 1_000_000 {
				return Workload{}, fmt.Errorf("%w: weight %q in %q", ErrBadWorkload, s, spec)
			}
			w.Ops[i].Weight = n
			total += n
		}
		if total == 0 {
			return Workload{}, fmt.Errorf("%w: all weights zero in %q", ErrBadWorkload, spec)
		}
	}
	return w, nil
}

// String renders the workload in the "a:b=1:9" form ParseWorkload accepts.
func (w Workload) String() string {
	if len(w.Ops) == 1 {
		return string(w.Ops[0].Op)
	}
	names := make([]string, len(w.Ops))
	weights := make([]string, len(w.Ops))
	for i, o := range w.Ops {
		names[i] = string(o.Op)
		weights[i] = strconv.Itoa(o.Weight)
	}
	return strings.Join(names, ":") + "=" + strings.Join(weights, ":")
}

// Reads reports whether any op of the mix reads keys that a fill creates.
func (w Workload) Reads() bool {
	for _, o := range w.Ops {
		if (o.Op == OpGet || o.Op == OpHGet) && o.Weight > 0 {
			return true
		}
	}
	return false
}

// OnlyOverwrites reports whether the mix leaves DBSIZE unchanged once the
// key space is filled: only GET, SET and PING over the "key:" prefix.
func (w Workload) OnlyOverwrites() bool {
	for _, o := range w.Ops {
		if o.Weight > 0 && o.Op != OpGet && o.Op != OpSet && o.Op != OpPing {
			return false
		}
	}
	return true
}

// Key returns the name of key i of an op's prefix, as the generator and the
// fill build it.
func Key(op Op, i int) string {
	return opPrefix[op] + fmt.Sprintf("%012d", i)
}

// Generator produces the commands of a workload. It is deterministic for a
// seed and not safe for concurrent use: each client owns one.
type Generator struct {
	ops      []Op  // ops[i] is picked when roll < cum[i]
	cum      []int // cumulative weights
	total    int
	keySpace int
	value    []byte
	rng      *rand.Rand
	keyBuf   []byte
	fieldBuf []byte
	args     [][]byte
}

// NewGenerator returns a generator over keys 0..keySpace-1 writing values of
// valueSize bytes.
func NewGenerator(w Workload, keySpace, valueSize int, seed uint64) *Generator {
	g := &Generator{
		keySpace: max(keySpace, 1),
		value:    Value(valueSize),
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	ops := append([]WeightedOp(nil), w.Ops...)
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Weight > ops[j].Weight })
	for _, o := range ops {
		if o.Weight == 0 {
			continue
		}
		g.total += o.Weight
		g.ops = append(g.ops, o.Op)
		g.cum = append(g.cum, g.total)
	}
	return g
}

// Value returns the value payload of the given size that fills and SETs
// write: printable, deterministic bytes.
func Value(size int) []byte {
	v := make([]byte, max(size, 0))
	for i := range v {
		v[i] = 'a' + byte(i%26)
	}
	return v
}

// Next returns the op and arguments of the next command. The returned slices
// are reused by the following call.
func (g *Generator) Next() (Op, [][]byte) {
	op := g.ops[0]
	if len(g.ops) > 1 {
		roll := g.rng.IntN(g.total)
		for i, c := range g.cum {
			if roll < c {
				op = g.ops[i]
				break
			}
		}
	}
	k := g.rng.IntN(g.keySpace)
	g.keyBuf = append(g.keyBuf[:0], opPrefix[op]...)
	g.keyBuf = appendPadded(g.keyBuf, k)
	a := g.args[:0]
	switch op {
	case OpGet:
		a = append(a, verbGet, g.keyBuf)
	case OpSet:
		a = append(a, verbSet, g.keyBuf, g.value)
	case OpIncr:
		a = append(a, verbIncr, g.keyBuf)
	case OpLPush:
		a = append(a, verbLpush, g.keyBuf, g.value)
	case OpHSet:
		g.fieldBuf = strconv.AppendInt(append(g.fieldBuf[:0], 'f'), int64(g.rng.IntN(16)), 10)
		a = append(a, verbHset, g.keyBuf, g.fieldBuf, g.value)
	case OpHGet:
		g.fieldBuf = strconv.AppendInt(append(g.fieldBuf[:0], 'f'), int64(g.rng.IntN(16)), 10)
		a = append(a, verbHget, g.keyBuf, g.fieldBuf)
	case OpSAdd:
		g.fieldBuf = strconv.AppendInt(append(g.fieldBuf[:0], 'm'), int64(g.rng.IntN(1024)), 10)
		a = append(a, verbSadd, g.keyBuf, g.fieldBuf)
	case OpPing:
		a = append(a, verbPing)
	}
	g.args = a
	return op, a
}

// appendPadded appends k as 12 decimal digits, as Key does.
func appendPadded(b []byte, k int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(k), 10)
	for i := len(s); i < 12; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
