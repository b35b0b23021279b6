package smbprobe

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// The SMB1 guest follow-up's second way to list shares, used when RAP
// NetShareEnum fails (impacket 0.10.0 refuses it): SRVSVC NetrShareEnum
// (MS-SRVS §3.1.4.8) over DCE/RPC (C706, MS-RPCE) on the named pipe
// \srvsvc of IPC$, as smbclient -L does:
//
//	NT_CREATE_ANDX "\srvsvc"                       MS-CIFS §2.2.4.64
//	TRANSACTION TransactNmPipe(bind SRVSVC 3.0)    MS-CIFS §2.2.5.6, C706 §12.6.4.3
//	TRANSACTION TransactNmPipe(request opnum 15)   MS-SRVS §3.1.4.8, level 1
//
// Only single-fragment PDUs are handled: the requests are small and a
// reply that does not fit one 4280-byte fragment is reported as an error.

const (
	smb1ComNTCreateX      = 0xA2   // SMB_COM_NT_CREATE_ANDX, MS-CIFS §2.2.4.64
	smb1TransactNmPipe    = 0x0026 // TRANS_TRANSACT_NMPIPE, MS-CIFS §2.2.5.6
	dcerpcMaxFrag         = 4280   // max_xmit_frag / max_recv_frag we offer
	dcerpcHeaderLen       = 16     // C706 §12.6.3.1 common header
	dcerpcPtypeRequest    = 0
	dcerpcPtypeResponse   = 2
	dcerpcPtypeFault      = 3
	dcerpcPtypeBind       = 11
	dcerpcPtypeBindAck    = 12
	srvsvcOpNetrShareEnum = 15 // MS-SRVS §3.1.4.8
)

// SRVSVC interface 4b324fc8-1670-01d3-1278-5a47bf6ee188 version 3.0
// (MS-SRVS §1.9) and the NDR transfer syntax
// 8a885d04-1ceb-11c9-9fe8-08002b104860 version 2 (C706 Appendix I), as
// little-endian UUIDs (MS-DTYP §2.3.4.2).
var (
	srvsvcSyntax = [20]byte{0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88, 3, 0, 0, 0}
	ndrSyntax    = [20]byte{0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 2, 0, 0, 0}
)

// appendSMB1NTCreate appends an NT_CREATE_ANDX request (MS-CIFS
// §2.2.4.64.1, 24 words) opening the named pipe name on the current tree
// for reading and writing.
func appendSMB1NTCreate(b []byte, name string) []byte {
	start := len(b)
	b = appendSMB1Header(b, smb1ComNTCreateX, 0)
	b = append(b, 24)            // WordCount
	b = append(b, 0xFF, 0, 0, 0) // AndXCommand none, AndXReserved, AndXOffset
	b = append(b, 0)             // Reserved
	nameLen := len(b)
	b = append(b, 0, 0)                                 // NameLength, patched below
	b = binary.LittleEndian.AppendUint32(b, 0)          // Flags
	b = binary.LittleEndian.AppendUint32(b, 0)          // RootDirectoryFID
	b = binary.LittleEndian.AppendUint32(b, 0x0002019f) // DesiredAccess: read/write data, EAs, attributes, READ_CONTROL (MS-SMB2 §2.2.13.1.1 values)
	b = binary.LittleEndian.AppendUint64(b, 0)          // AllocationSize
	b = binary.LittleEndian.AppendUint32(b, 0)          // ExtFileAttributes
	b = binary.LittleEndian.AppendUint32(b, 3)          // ShareAccess: FILE_SHARE_READ | FILE_SHARE_WRITE
	b = binary.LittleEndian.AppendUint32(b, 1)          // CreateDisposition: FILE_OPEN
	b = binary.LittleEndian.AppendUint32(b, 0)          // CreateOptions
	b = binary.LittleEndian.AppendUint32(b, 2)          // ImpersonationLevel: SEC_IMPERSONATE
	b = append(b, 0)                                    // SecurityFlags
	bc := len(b)
	b = append(b, 0, 0) // ByteCount, patched below
	before := len(b)
	b = appendSMB1Unicode(b, start, name)
	n := len(b) - before
	if (before-start)%2 != 0 {
		n-- // the pad byte is not part of FileName
	}
	binary.LittleEndian.PutUint16(b[nameLen:], uint16(n))
	binary.LittleEndian.PutUint16(b[bc:], uint16(len(b)-bc-2))
	return b
}

// parseSMB1NTCreate parses an NT_CREATE_ANDX response (MS-CIFS
// §2.2.4.64.2, 34 words, or MS-SMB §2.2.4.9.2's 42 or 50) and returns the
// FID.
func parseSMB1NTCreate(b []byte) (fid uint16, err error) {
	status, _, words, _, err := smb1Parse(b, smb1ComNTCreateX)
	if err != nil {
		return 0, err
	}
	if status != statusSuccess {
		return 0, &StatusError{Op: "smb1 nt create", Status: status}
	}
	if len(words) < 2*34 {
		return 0, fmt.Errorf("%w: SMB1 nt create WordCount %d", ErrMalformed, len(words)/2)
	}
	return binary.LittleEndian.Uint16(words[5:]), nil // after AndX (4) and OplockLevel (1)
}

// appendDCERPCHeader appends the common header of a connection-oriented
// PDU (C706 §12.6.3.1): version 5.0, first and last fragment, little-endian
// NDR data representation; frag_length is patched by dcerpcFinish.
func appendDCERPCHeader(b []byte, ptype byte, callID uint32) []byte {
	b = append(b, 5, 0, ptype, 0x03, 0x10, 0, 0, 0)
	b = append(b, 0, 0, 0, 0) // frag_length, auth_length
	return binary.LittleEndian.AppendUint32(b, callID)
}

func dcerpcFinish(pdu []byte) []byte {
	binary.LittleEndian.PutUint16(pdu[8:], uint16(len(pdu)))
	return pdu
}

// appendSRVSVCBind appends a bind PDU (C706 §12.6.4.3) with one
// presentation context: SRVSVC 3.0 over NDR 2.0.
func appendSRVSVCBind(b []byte) []byte {
	start := len(b)
	b = appendDCERPCHeader(b, dcerpcPtypeBind, 1)
	b = binary.LittleEndian.AppendUint16(b, dcerpcMaxFrag) // max_xmit_frag
	b = binary.LittleEndian.AppendUint16(b, dcerpcMaxFrag) // max_recv_frag
	b = binary.LittleEndian.AppendUint32(b, 0)             // assoc_group_id
	b = append(b, 1, 0, 0, 0)                              // n_context_elem, reserved
	b = append(b, 0, 0, 1, 0)                              // p_cont_id 0, n_transfer_syn 1, reserved
	b = append(b, srvsvcSyntax[:]...)
	b = append(b, ndrSyntax[:]...)
	dcerpcFinish(b[start:])
	return b
}

// dcerpcPDU checks a reply PDU's common header (C706 §12.6.3.1): version
// 5, little-endian, one whole fragment of the expected type; a fault PDU
// (§12.6.4.7) becomes an error with its status. It returns the body.
func dcerpcPDU(b []byte, want byte) ([]byte, error) {
	if len(b) < dcerpcHeaderLen {
		return nil, fmt.Errorf("%w: DCE/RPC PDU of %d bytes", ErrTruncated, len(b))
	}
	if b[0] != 5 || b[4]&0xF0 != 0x10 {
		return nil, fmt.Errorf("%w: DCE/RPC version %d.%d, data representation 0x%02x", ErrMalformed, b[0], b[1], b[4])
	}
	if b[3]&0x03 != 0x03 {
		return nil, fmt.Errorf("%w: DCE/RPC reply in fragments (flags 0x%02x)", ErrMalformed, b[3])
	}
	n := int(binary.LittleEndian.Uint16(b[8:]))
	if n < dcerpcHeaderLen || n > len(b) {
		return nil, fmt.Errorf("%w: DCE/RPC frag_length %d of %d bytes", ErrTruncated, n, len(b))
	}
	body := b[dcerpcHeaderLen:n]
	if b[2] == dcerpcPtypeFault && want != dcerpcPtypeFault {
		if len(body) >= 12 {
			return nil, fmt.Errorf("%w: DCE/RPC fault status 0x%08x", ErrMalformed, binary.LittleEndian.Uint32(body[8:]))
		}
		return nil, fmt.Errorf("%w: DCE/RPC fault", ErrMalformed)
	}
	if b[2] != want {
		return nil, fmt.Errorf("%w: DCE/RPC PDU type %d, want %d", ErrMalformed, b[2], want)
	}
	return body, nil
}

// parseSRVSVCBindAck checks a bind_ack (C706 §12.6.4.4) accepted our one
// presentation context.
func parseSRVSVCBindAck(b []byte) error {
	body, err := dcerpcPDU(b, dcerpcPtypeBindAck)
	if err != nil {
		return err
	}
	// max_xmit_frag, max_recv_frag, assoc_group_id, then sec_addr: a u16
	// length and that many bytes; then padding to 4 (from the PDU start).
	if len(body) < 10 {
		return fmt.Errorf("%w: DCE/RPC bind_ack of %d bytes", ErrTruncated, len(body))
	}
	p := 10 + int(binary.LittleEndian.Uint16(body[8:]))
	p += (4 - (dcerpcHeaderLen+p)%4) % 4
	// p_result_list: n_results, 3 reserved bytes, then p_result_t
	// {result u16, reason u16, transfer syntax 20}.
	if p+8 > len(body) {
		return fmt.Errorf("%w: DCE/RPC bind_ack results", ErrTruncated)
	}
	if body[p] < 1 {
		return fmt.Errorf("%w: DCE/RPC bind_ack without results", ErrMalformed)
	}
	if res, reason := binary.LittleEndian.Uint16(body[p+4:]), binary.LittleEndian.Uint16(body[p+6:]); res != 0 {
		return fmt.Errorf("%w: SRVSVC bind refused (result %d, reason %d)", ErrMalformed, res, reason)
	}
	return nil
}

// appendNDRString appends a [string] wchar_t* (C706 §14.3.4): max_count,
// offset 0, actual_count, the UTF-16LE characters with their NUL, padded
// to 4 bytes from base (the start of the stub).
func appendNDRString(b []byte, base int, s string) []byte {
	u := append(utf16.Encode([]rune(s)), 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(u)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(u)))
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	for (len(b)-base)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// appendNetrShareEnum appends a request PDU (C706 §12.6.4.9) calling
// NetrShareEnum (MS-SRVS §3.1.4.8) for level 1, with ServerName
// `\\host`, an empty SHARE_INFO_1_CONTAINER, PreferedMaximumLength
// 0xFFFFFFFF and a zero ResumeHandle, NDR-encoded.
func appendNetrShareEnum(b []byte, host string) []byte {
	start := len(b)
	b = appendDCERPCHeader(b, dcerpcPtypeRequest, 2)
	b = binary.LittleEndian.AppendUint32(b, 0) // alloc_hint, patched below
	b = binary.LittleEndian.AppendUint16(b, 0) // p_cont_id
	b = binary.LittleEndian.AppendUint16(b, srvsvcOpNetrShareEnum)
	stub := len(b)
	b = binary.LittleEndian.AppendUint32(b, 0x00020000) // ServerName: unique pointer referent
	b = appendNDRString(b, stub, `\\`+host)
	b = binary.LittleEndian.AppendUint32(b, 1)          // InfoStruct.Level
	b = binary.LittleEndian.AppendUint32(b, 1)          // union discriminant
	b = binary.LittleEndian.AppendUint32(b, 0x00020004) // Level1: unique pointer referent
	b = binary.LittleEndian.AppendUint32(b, 0)          // EntriesRead
	b = binary.LittleEndian.AppendUint32(b, 0)          // Buffer: null
	b = binary.LittleEndian.AppendUint32(b, 0xFFFFFFFF) // PreferedMaximumLength
	b = binary.LittleEndian.AppendUint32(b, 0x00020008) // ResumeHandle: unique pointer referent
	b = binary.LittleEndian.AppendUint32(b, 0)          // *ResumeHandle
	binary.LittleEndian.PutUint32(b[start+dcerpcHeaderLen:], uint32(len(b)-stub))
	dcerpcFinish(b[start:])
	return b
}

// ndrReader reads little-endian NDR (C706 §14.2) from a stub with bounds
// checks; the first error sticks.
type ndrReader struct {
	b   []byte
	p   int
	err error
}

func (r *ndrReader) u32() uint32 {
	r.p += (4 - r.p%4) % 4
	if r.err != nil || r.p+4 > len(r.b) {
		if r.err == nil {
			r.err = fmt.Errorf("%w: NDR stub of %d bytes", ErrTruncated, len(r.b))
		}
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.p:])
	r.p += 4
	return v
}

// str reads a conformant varying wchar_t string (C706 §14.3.4), at most
// maxSMB1String characters kept, without its NUL.
func (r *ndrReader) str() string {
	r.u32() // max_count
	off, n := r.u32(), r.u32()
	if r.err != nil {
		return ""
	}
	if off != 0 || int(n) > (len(r.b)-r.p)/2 {
		r.err = fmt.Errorf("%w: NDR string offset %d length %d", ErrTruncated, off, n)
		return ""
	}
	u := make([]uint16, 0, min(int(n), maxSMB1String))
	for i := range int(n) {
		c := binary.LittleEndian.Uint16(r.b[r.p+2*i:])
		if c != 0 && len(u) < maxSMB1String {
			u = append(u, c)
		}
	}
	r.p += 2 * int(n)
	return string(utf16.Decode(u))
}

// parseNetrShareEnum parses the response PDU (C706 §12.6.4.10) of
// NetrShareEnum level 1 (MS-SRVS §3.1.4.8, SHARE_INFO_1 §2.2.4.23) and
// returns the share names and types. A non-zero WERROR after the shares
// is an error, with the names kept.
func parseNetrShareEnum(b []byte) ([]rapShare, error) {
	body, err := dcerpcPDU(b, dcerpcPtypeResponse)
	if err != nil {
		return nil, err
	}
	if len(body) < 8 {
		return nil, fmt.Errorf("%w: DCE/RPC response of %d bytes", ErrTruncated, len(body))
	}
	// alloc_hint, p_cont_id, cancel_count, reserved; the stub is 8-aligned
	// from the PDU start (offset 24), so NDR alignment is from the stub.
	r := &ndrReader{b: body[8:]}
	level, disc, ptr := r.u32(), r.u32(), r.u32()
	if r.err == nil && (level != 1 || disc != 1) {
		return nil, fmt.Errorf("%w: NetrShareEnum level %d/%d", ErrMalformed, level, disc)
	}
	if ptr == 0 {
		return nil, r.err
	}
	n, buf := r.u32(), r.u32()
	if r.err != nil || buf == 0 {
		return nil, r.err
	}
	if max := r.u32(); r.err == nil && max < n {
		return nil, fmt.Errorf("%w: NetrShareEnum %d entries in an array of %d", ErrMalformed, n, max)
	}
	if int(n) > (len(r.b)-r.p)/12 {
		return nil, fmt.Errorf("%w: NetrShareEnum %d entries in %d bytes", ErrTruncated, n, len(r.b)-r.p)
	}
	type entry struct{ name, typ, remark uint32 }
	entries := make([]entry, n)
	for i := range entries {
		entries[i] = entry{r.u32(), r.u32(), r.u32()}
	}
	var shares []rapShare
	for _, e := range entries {
		var name string
		if e.name != 0 {
			name = r.str()
		}
		if e.remark != 0 {
			r.str()
		}
		if r.err != nil {
			return shares, r.err
		}
		if len(shares) < maxShares {
			shares = append(shares, rapShare{Name: name, Type: uint16(e.typ)})
		}
	}
	r.u32() // TotalEntries
	if r.u32() != 0 {
		r.u32() // *ResumeHandle
	}
	if werr := r.u32(); r.err == nil && werr != 0 {
		return shares, fmt.Errorf("%w: NetrShareEnum WERROR 0x%08x", ErrMalformed, werr)
	}
	return shares, r.err
}
