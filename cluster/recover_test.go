package cluster

import "testing"

func TestParseVoters(t *testing.T) {
	vs, err := ParseVoters("n1=10.0.0.1:7053, n2=[2001:db8::2]:7053")
	if err != nil || len(vs) != 2 || vs[0] != (Voter{"n1", "10.0.0.1:7053"}) || vs[1] != (Voter{"n2", "[2001:db8::2]:7053"}) {
		t.Fatalf("ParseVoters = %+v, %v", vs, err)
	}
	for _, bad := range []string{"", "n1", "n1=", "=10.0.0.1:7053", "n1=10.0.0.1", "n1=a:1,n1=b:2"} {
		if _, err := ParseVoters(bad); err == nil {
			t.Errorf("ParseVoters(%q) accepted", bad)
		}
	}
}

// Recover refuses a directory that holds no cluster.
func TestRecoverRefusesEmptyDir(t *testing.T) {
	if _, err := Recover(t.TempDir(), []Voter{{"n1", "127.0.0.1:7053"}}, testLogger()); err == nil {
		t.Fatal("recovered an empty data directory")
	}
}
