package api

import (
	"encoding/json"
	"errors"
)

// NSAuto is the value of a zone's "ns" that makes its NS set and glue
// follow the cluster's members that have an NS name (serve --ns-name).
const NSAuto = "auto"

// NSNames is the "ns" of a zone put: a list of host names, or the string
// "auto".
type NSNames []string

// Auto reports whether the names are the single value "auto".
func (n NSNames) Auto() bool { return len(n) == 1 && n[0] == NSAuto }

// UnmarshalJSON reads a list of names, or "auto".
func (n *NSNames) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != NSAuto {
			return errors.New(`"ns" is a list of host names or "auto"`)
		}
		*n = NSNames{NSAuto}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return errors.New(`"ns" is a list of host names or "auto"`)
	}
	*n = l
	return nil
}

// MarshalJSON writes "auto" as the string, other names as a list.
func (n NSNames) MarshalJSON() ([]byte, error) {
	if n.Auto() {
		return json.Marshal(NSAuto)
	}
	return json.Marshal([]string(n))
}
