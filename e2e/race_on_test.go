//go:build race

package e2e

// raceBuild is true when the tests run with -race; the binary under test is
// then built with -race too, and its logs are checked for data races.
const raceBuild = true
