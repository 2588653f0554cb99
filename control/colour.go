package control

import "strings"

// Colour names one of a service's two pools.
type Colour string

const (
	Blue  Colour = "blue"
	Green Colour = "green"
)

// Other returns the opposite colour.
func (c Colour) Other() Colour {
	if c == Blue {
		return Green
	}
	return Blue
}

// Valid reports whether c is blue or green.
func (c Colour) Valid() bool { return c == Blue || c == Green }

// ParseColour accepts "blue" or "green" in any case; "" gives "".
func ParseColour(s string) (Colour, error) {
	c := Colour(strings.ToLower(strings.TrimSpace(s)))
	if c == "" || c.Valid() {
		return c, nil
	}
	return "", Invalid("unknown colour %q (want blue or green)", s)
}
