package metrics

import gometrics "github.com/hashicorp/go-metrics/compat"

// raftIncr counts as Raft counts (raft.apply and the like), through the
// same package-level go-metrics functions.
func raftIncr() { gometrics.IncrCounter([]string{"raft", "testProbe"}, 1) }
