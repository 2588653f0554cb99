package control

import (
	"hash/maphash"
	"maps"
)

const shardCount = 256

var shardSeed = maphash.MakeSeed()

// shardMap is an immutable map split into shards, so that replacing one
// entry copies one shard (about n/256 entries) and the shard table, not the
// whole map. The zero value is an empty map.
type shardMap[V any] struct {
	shards *[shardCount]map[string]V
	n      int
}

func shardOf(key string) int {
	return int(maphash.String(shardSeed, key) % shardCount)
}

func (m shardMap[V]) Get(key string) (V, bool) {
	var zero V
	if m.shards == nil {
		return zero, false
	}
	v, ok := m.shards[shardOf(key)][key]
	return v, ok
}

func (m shardMap[V]) Len() int { return m.n }

// With returns a map with key set to v; m is unchanged.
func (m shardMap[V]) With(key string, v V) shardMap[V] {
	var table [shardCount]map[string]V
	if m.shards != nil {
		table = *m.shards
	}
	i := shardOf(key)
	old := table[i]
	_, existed := old[key]
	shard := maps.Clone(old) // copies the table as it is, without rehashing
	if shard == nil {
		shard = make(map[string]V, 1)
	}
	shard[key] = v
	table[i] = shard
	n := m.n
	if !existed {
		n++
	}
	return shardMap[V]{shards: &table, n: n}
}

// Without returns a map without key; m is unchanged.
func (m shardMap[V]) Without(key string) shardMap[V] {
	if _, ok := m.Get(key); !ok {
		return m
	}
	table := *m.shards
	i := shardOf(key)
	shard := maps.Clone(table[i])
	delete(shard, key)
	table[i] = shard
	return shardMap[V]{shards: &table, n: m.n - 1}
}

// Range calls f for every entry, in no particular order, until f is false.
func (m shardMap[V]) Range(f func(string, V) bool) {
	if m.shards == nil {
		return
	}
	for _, shard := range m.shards {
		for k, v := range shard {
			if !f(k, v) {
				return
			}
		}
	}
}
