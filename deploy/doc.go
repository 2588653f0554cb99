// Package deploy holds no code: its files are what the release is made of
// (the systemd unit, the Debian maintainer scripts and configuration
// templates that scripts/dist.sh packs, and the container recipe), and its
// tests check them without installing anything. scripts/test-dist.sh
// installs the built package and checks it on the real system.
package deploy
