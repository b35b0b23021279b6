package lab

import _ "embed"

// DepsScript is lab/deps.sh: a POSIX shell script that apt-installs what
// the lab runs and reports what is still missing (exit status 1). Run it
// with sh as root.
//
//go:embed deps.sh
var DepsScript string
