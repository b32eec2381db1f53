package engine

// KeyUsage is MEMORY USAGE: the bytes key takes in Pebble, its rows' keys
// and values before compression (walrus keeps its dataset there, not in
// the heap). A collection's elements are estimated from its first samples
// rows as Redis estimates from samples elements; samples 0 reads them
// all. ok is false when the key does not exist; err is a storage error.
func (e *Engine) KeyUsage(s *Session, key []byte, samples int64) (n int64, ok bool, err error) {
	e.swap.RLock()
	defer e.swap.RUnlock()
	c := e.readCtx()
	c.selectDB(s.DB)
	defer func() {
		if r := recover(); r != nil {
			se, isStorage := r.(storageError)
			if !isStorage {
				panic(r)
			}
			n, ok, err = 0, false, se.err
		}
	}()
	m, ok := c.lookup(key)
	if !ok {
		return 0, false, nil
	}
	n = int64(len(metaKey(nil, c.phys, key)) + metaHeader + len(m.value))
	if !m.isCollection() {
		return n, true, nil
	}
	n += 16 // version and count
	rows := m.count
	if m.typ == typeZSet {
		rows *= 2 // a member's score, and its place in score order
	}
	p := elemPrefix(nil, c.phys, m.version)
	it := c.iter(p, prefixEnd(p))
	defer it.Close()
	var seen, bytes int64
	for valid := it.First(); valid && (samples == 0 || seen < samples); valid = it.Next() {
		bytes += int64(len(it.Key()) + len(it.Value()))
		seen++
	}
	if err := it.Error(); err != nil {
		return 0, false, err
	}
	if seen > 0 && seen < rows {
		bytes = bytes * rows / seen
	}
	return n + bytes, true, nil
}
