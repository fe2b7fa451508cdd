package mqtt

// Trie is a subscription tree: it maps topic filters to values of type V
// (a broker's subscription records, a client's handlers) and finds the
// values whose filters match a topic name (§4.7). Shared subscriptions
// "$share/{group}/{filter}" are indexed under their filter, so they match
// like ordinary ones; V should identify the group.
//
// A Trie is not safe for concurrent use; any number of goroutines may call
// Match concurrently while nothing calls Add or Remove. The zero value is an
// empty Trie ready to use.
type Trie[V comparable] struct {
	root tnode[V]
	n    int
}

type tnode[V comparable] struct {
	children map[string]*tnode[V] // exact levels
	plus     *tnode[V]            // '+'
	hash     []V                  // values of the filter ending in '#' here
	vals     []V                  // values of the filter ending here
	parent   *tnode[V]
	key      string // level in parent: "" for root, "+" or exact
}

// Len returns the number of values stored.
func (t *Trie[V]) Len() int { return t.n }

// Add stores v under filter after checking the filter's syntax
// ([CheckTopicFilter]). It does not look for an equal value already stored
// under the same filter: storing one twice makes Match report it twice.
func (t *Trie[V]) Add(filter []byte, v V) error {
	if err := CheckTopicFilter(filter); err != nil {
		return err
	}
	_, filter, _ = ParseShared(filter)
	n := &t.root
	for {
		lvl, rest, last := nextLevel(filter)
		if string(lvl) == "#" {
			n.hash = append(n.hash, v)
			t.n++
			return nil
		}
		var c *tnode[V]
		if string(lvl) == "+" {
			if n.plus == nil {
				n.plus = &tnode[V]{parent: n, key: "+"}
			}
			c = n.plus
		} else {
			c = n.children[string(lvl)]
			if c == nil {
				if n.children == nil {
					n.children = make(map[string]*tnode[V])
				}
				c = &tnode[V]{parent: n, key: string(lvl)}
				n.children[c.key] = c
			}
		}
		n = c
		if last {
			n.vals = append(n.vals, v)
			t.n++
			return nil
		}
		filter = rest
	}
}

// Remove deletes one occurrence of v stored under filter and reports whether
// it found one. Nodes left empty are freed.
func (t *Trie[V]) Remove(filter []byte, v V) bool {
	_, filter, err := ParseShared(filter)
	if err != nil || len(filter) == 0 {
		return false
	}
	n := &t.root
	for {
		lvl, rest, last := nextLevel(filter)
		if string(lvl) == "#" {
			if !removeVal(&n.hash, v) {
				return false
			}
			break
		}
		if string(lvl) == "+" {
			n = n.plus
		} else {
			n = n.children[string(lvl)]
		}
		if n == nil {
			return false
		}
		if last {
			if !removeVal(&n.vals, v) {
				return false
			}
			break
		}
		filter = rest
	}
	t.n--
	for n.parent != nil && len(n.vals) == 0 && len(n.hash) == 0 && n.plus == nil && len(n.children) == 0 {
		p := n.parent
		if n.key == "+" && p.plus == n {
			p.plus = nil
		} else {
			delete(p.children, n.key)
		}
		n = p
	}
	return true
}

func removeVal[V comparable](s *[]V, v V) bool {
	for i, x := range *s {
		if x == v {
			last := len(*s) - 1
			copy((*s)[i:], (*s)[i+1:])
			var zero V
			(*s)[last] = zero
			*s = (*s)[:last]
			return true
		}
	}
	return false
}

// nextLevel splits the first level off a topic or filter.
func nextLevel(s []byte) (lvl, rest []byte, last bool) {
	for i, c := range s {
		if c == '/' {
			return s[:i], s[i+1:], false
		}
	}
	return s, nil, true
}

// Match appends to dst the values of every filter matching the topic name
// and returns the extended slice. Filters starting with a wildcard do not
// match topics starting with '$' [MQTT-4.7.2-1]. A value is appended once
// per matching filter it is stored under; the order is unspecified. Match
// allocates nothing when dst has room. topic should be a valid topic name.
func (t *Trie[V]) Match(topic []byte, dst []V) []V {
	n := &t.root
	if len(topic) > 0 && topic[0] == '$' {
		// [MQTT-4.7.2-1]: skip the root's '+' and '#'.
		lvl, rest, last := nextLevel(topic)
		c := n.children[string(lvl)]
		if c == nil {
			return dst
		}
		return c.match(rest, last, dst)
	}
	return n.match(topic, false, dst)
}

// match matches the levels of topic below n; done means topic has no
// levels left (the previous level was the last).
func (n *tnode[V]) match(topic []byte, done bool, dst []V) []V {
	for {
		dst = append(dst, n.hash...) // '#' matches the parent level too (§4.7.1.2)
		if done {
			return append(dst, n.vals...)
		}
		lvl, rest, last := nextLevel(topic)
		if n.plus != nil {
			dst = n.plus.match(rest, last, dst)
		}
		c := n.children[string(lvl)]
		if c == nil {
			return dst
		}
		n, topic, done = c, rest, last
	}
}
