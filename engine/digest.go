package engine

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// Digest is DEBUG DIGEST: a checksum of the whole dataset (every logical
// database, key, type, expiry and value), equal on any two nodes holding
// the same data whatever order it was written in. An empty dataset gives
// forty zeros, as in Redis.
func (e *Engine) Digest() string {
	e.swap.RLock()
	defer e.swap.RUnlock()
	var sum [sha1.Size]byte
	c := e.readCtx()
	for db := 0; db < e.opts.Databases; db++ {
		c.selectDB(db)
		c.scanKeys(0, func(key []byte, _ uint64, m *meta) bool {
			d := c.keyDigest(db, key, m)
			for i := range sum {
				sum[i] ^= d[i]
			}
			return true
		})
	}
	return hex.EncodeToString(sum[:])
}

// DigestValue is DEBUG DIGEST-VALUE: one digest per key, zeros if absent.
func (e *Engine) DigestValue(s *Session, keys [][]byte) []string {
	e.swap.RLock()
	defer e.swap.RUnlock()
	c := e.readCtx()
	c.selectDB(s.DB)
	out := make([]string, len(keys))
	for i, k := range keys {
		m, ok := c.lookup(k)
		if !ok {
			out[i] = hex.EncodeToString(make([]byte, sha1.Size))
			continue
		}
		d := c.valueDigest(&m)
		out[i] = hex.EncodeToString(d)
	}
	return out
}

func (e *Engine) readCtx() *ctx {
	return &ctx{e: e, r: e.db, now: e.opts.Now().UnixMilli(), noStats: true}
}

// keyDigest covers the database, the key, its expiry and its value.
func (c *ctx) keyDigest(db int, key []byte, m *meta) []byte {
	h := sha1.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(db))
	h.Write(b[:])
	writeLen(h, key)
	binary.BigEndian.PutUint64(b[:], uint64(m.expireAt))
	h.Write(b[:])
	h.Write(c.valueDigest(m))
	return h.Sum(nil)
}

// valueDigest covers a value's type and content. Collections hash their
// elements in key order; a type may register a logical digest instead.
func (c *ctx) valueDigest(m *meta) []byte {
	h := sha1.New()
	h.Write([]byte{m.typ})
	if !m.isCollection() {
		writeLen(h, m.value)
		return h.Sum(nil)
	}
	if fn := valueDigesters[m.typ]; fn != nil {
		fn(c, m, h)
		return h.Sum(nil)
	}
	writeLen(h, m.value)
	p := elemPrefix(nil, c.phys, m.version)
	it := c.iter(p, prefixEnd(p))
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		writeLen(h, it.Key()[len(p):])
		writeLen(h, it.Value())
	}
	return h.Sum(nil)
}

// valueDigesters lets a type digest its logical content when its element
// keys depend on history (list positions, for instance).
var valueDigesters = map[byte]func(c *ctx, m *meta, h hash.Hash){}

func writeLen(h hash.Hash, b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	h.Write(n[:])
	h.Write(b)
}
