package cluster

import (
	"bytes"
	"encoding/json"
)

// jsonFirst decodes the first JSON value of b into v.
func jsonFirst(b []byte, v any) error {
	return json.NewDecoder(bytes.NewReader(b)).Decode(v)
}
