package control

import (
	"fmt"
	"testing"
)

func TestShardMapIsPersistent(t *testing.T) {
	var m shardMap[int]
	var versions []shardMap[int]
	for i := 0; i < 1000; i++ {
		m = m.With(fmt.Sprint(i), i)
		versions = append(versions, m)
	}
	for i, v := range versions {
		if v.Len() != i+1 {
			t.Fatalf("version %d has %d entries", i, v.Len())
		}
		if _, ok := v.Get(fmt.Sprint(i + 1)); ok {
			t.Fatalf("version %d sees a later write", i)
		}
	}
	m2 := m.Without("5")
	if _, ok := m.Get("5"); !ok {
		t.Fatal("Without changed the old map")
	}
	if _, ok := m2.Get("5"); ok || m2.Len() != 999 {
		t.Fatal("Without did not remove")
	}
	if m2.Without("nope").Len() != 999 {
		t.Fatal("removing a missing key changed the size")
	}
	n := 0
	m2.Range(func(string, int) bool { n++; return true })
	if n != 999 {
		t.Fatalf("Range saw %d", n)
	}
}
