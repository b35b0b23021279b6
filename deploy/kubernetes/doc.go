// Package kubernetes holds no code: it is the home of job.yaml, the
// Kubernetes Indexed Job that runs one smbsweep shard per node, and of the
// test that parses it and checks that its completion indexes map onto a
// partition of the scan's targets. See README.md in this directory.
package kubernetes
