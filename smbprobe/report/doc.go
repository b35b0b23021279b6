// Package report turns a stream of smbsweep result lines (JSON Lines, one
// host per line, as written by 'smbsweep probe' and 'smbsweep run'; schema
// in smbprobe/SCHEMA.md) into aggregate counts, and renders them as one
// self-contained HTML page and a plain-text summary.
//
// Aggregation is streaming and bounded: an Aggregator reads any number of
// lines in memory that does not grow with the input. Categorical counts
// (dialects, OS builds, Samba versions, names) keep at most
// Config.MaxValues distinct values each, using the Space-Saving algorithm
// (Metwally, Agrawal, El Abbadi, "Efficient Computation of Frequent and
// Top-k Elements in Data Streams", ICDT 2005): counts are exact until a
// table overflows, and afterwards every value seen more than
// total/MaxValues times is still reported, with a stated error bound.
// Per-/16 counts are a fixed array of 65,536 counters.
//
// Records are decoded into a small local struct of just the aggregated
// fields, so unknown fields (such as the scan facts of 'smbsweep run') are
// ignored, and a malformed line is counted with its line number, never
// fatal. A hand-written decoder takes the common shape of a record (four
// to five times faster than encoding/json; bench/results/report.md) and
// hands anything it cannot decode exactly as encoding/json would to
// encoding/json, the reference; a fuzz test holds the two to agreement.
//
// Every string in a record came from a host on the internet and is
// attacker-controlled: the HTML is rendered with html/template, and the
// text summary quotes control characters, so neither markup nor terminal
// escapes pass through.
//
// This package is not a query engine: it answers the fixed questions of
// the report. For ad-hoc questions, use jq or load the JSON lines into a
// database.
package report
