package rawscan

import (
	"strconv"
	"time"
)

// Status returns the result's status in smbsweep's output vocabulary
// (zgrab2's lowercase enum): "success" for a SYN-ACK,
// "connection-refused" for an RST, "unreachable" for ICMP.
func (r *Result) Status() string {
	switch r.Kind {
	case KindSynAck:
		return "success"
	case KindRST:
		return "connection-refused"
	case KindICMPUnreach:
		return "unreachable"
	}
	return "unknown"
}

// AppendJSON appends r as one JSON object and a newline (JSON Lines) with
// snake_case keys: ip, port, status, classification, ttl, window, mss,
// icmp_type and icmp_code (ICMP only), suspect_proxy (when flagged) and
// timestamp (RFC 3339, nanoseconds, UTC). It does not allocate when dst has
// room.
func (r *Result) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"ip":"`...)
	dst = r.Addr.AppendTo(dst)
	dst = append(dst, `","port":`...)
	dst = strconv.AppendUint(dst, uint64(r.Port), 10)
	dst = append(dst, `,"status":"`...)
	dst = append(dst, r.Status()...)
	dst = append(dst, `","classification":"`...)
	dst = append(dst, r.Kind.String()...)
	dst = append(dst, `","ttl":`...)
	dst = strconv.AppendUint(dst, uint64(r.TTL), 10)
	dst = append(dst, `,"window":`...)
	dst = strconv.AppendUint(dst, uint64(r.Window), 10)
	dst = append(dst, `,"mss":`...)
	dst = strconv.AppendUint(dst, uint64(r.MSS), 10)
	if r.Kind == KindICMPUnreach {
		dst = append(dst, `,"icmp_type":`...)
		dst = strconv.AppendUint(dst, uint64(r.ICMPType), 10)
		dst = append(dst, `,"icmp_code":`...)
		dst = strconv.AppendUint(dst, uint64(r.ICMPCode), 10)
	}
	if r.Flags&FlagSuspectProxy != 0 {
		dst = append(dst, `,"suspect_proxy":true`...)
	}
	dst = append(dst, `,"timestamp":"`...)
	dst = r.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, "\"}\n"...)
}

// CSVHeader is the header line of AppendCSV's format.
const CSVHeader = "ip,port,status,classification,ttl,window,mss,icmp_type,icmp_code,suspect_proxy,timestamp\n"

// AppendCSV appends r as one CSV record (RFC 4180; no field needs quoting)
// in the columns of CSVHeader.
func (r *Result) AppendCSV(dst []byte) []byte {
	dst = r.Addr.AppendTo(dst)
	dst = append(dst, ',')
	dst = strconv.AppendUint(dst, uint64(r.Port), 10)
	dst = append(dst, ',')
	dst = append(dst, r.Status()...)
	dst = append(dst, ',')
	dst = append(dst, r.Kind.String()...)
	for _, v := range [...]uint64{uint64(r.TTL), uint64(r.Window), uint64(r.MSS)} {
		dst = append(dst, ',')
		dst = strconv.AppendUint(dst, v, 10)
	}
	dst = append(dst, ',')
	if r.Kind == KindICMPUnreach {
		dst = strconv.AppendUint(dst, uint64(r.ICMPType), 10)
		dst = append(dst, ',')
		dst = strconv.AppendUint(dst, uint64(r.ICMPCode), 10)
	} else {
		dst = append(dst, ',')
	}
	dst = append(dst, ',')
	dst = strconv.AppendBool(dst, r.Flags&FlagSuspectProxy != 0)
	dst = append(dst, ',')
	dst = r.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '\n')
}
