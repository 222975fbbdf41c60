package replicate

// table maps entity slots to a viewer's entries: open addressing with
// linear probing and backward-shift deletion, so that it never allocates
// once grown and a lookup costs a few probes.
type table struct {
	keys []uint32 // slot+1, 0 empty
	vals []int32
	n    int
}

func (t *table) init(n int) {
	size := 16
	for size < 2*n {
		size *= 2
	}
	t.keys, t.vals, t.n = make([]uint32, size), make([]int32, size), 0
}

func (t *table) home(slot uint32) int {
	return int((slot * 0x9E3779B1) >> 7 & uint32(len(t.keys)-1))
}

func (t *table) get(slot uint32) (int32, bool) {
	mask := len(t.keys) - 1
	for i := t.home(slot); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case 0:
			return 0, false
		case slot + 1:
			return t.vals[i], true
		}
	}
}

func (t *table) put(slot uint32, v int32) {
	if 2*(t.n+1) > len(t.keys) {
		t.grow()
	}
	mask := len(t.keys) - 1
	for i := t.home(slot); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case 0:
			t.keys[i], t.vals[i] = slot+1, v
			t.n++
			return
		case slot + 1:
			t.vals[i] = v
			return
		}
	}
}

func (t *table) del(slot uint32) {
	mask := len(t.keys) - 1
	i := t.home(slot)
	for ; t.keys[i] != slot+1; i = (i + 1) & mask {
		if t.keys[i] == 0 {
			return
		}
	}
	// Shift back the entries after it that would no longer be found.
	for j := (i + 1) & mask; t.keys[j] != 0; j = (j + 1) & mask {
		h := t.home(t.keys[j] - 1)
		if (j-h)&mask >= (j-i)&mask {
			t.keys[i], t.vals[i] = t.keys[j], t.vals[j]
			i = j
		}
	}
	t.keys[i] = 0
	t.n--
}

func (t *table) grow() {
	keys, vals := t.keys, t.vals
	t.init(len(keys))
	for i, k := range keys {
		if k != 0 {
			t.put(k-1, vals[i])
		}
	}
}
