package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// tcpReceived returns how many bytes the process pid has received over
// its established TCP connections to port on 127.0.0.1, from the kernel's
// tcp_info for each socket (sock_diag), so a sync's transfer is counted
// without a proxy on its path: the proxy's copies and the kernel work of a
// second hop take CPU from the very servers whose latency is measured.
func tcpReceived(pid, port int) (int64, error) {
	inodes, err := socketInodes(pid)
	if err != nil {
		return 0, err
	}
	var total int64
	err = dumpTCPInfo(func(dport uint16, inode uint32, info []byte) {
		if int(dport) != port || !inodes[inode] {
			return
		}
		off := unsafe.Offsetof(unix.TCPInfo{}.Bytes_received)
		if uintptr(len(info)) >= off+8 {
			total += int64(binary.NativeEndian.Uint64(info[off:]))
		}
	})
	return total, err
}

// socketInodes returns the inodes of the sockets pid holds open.
func socketInodes(pid int) (map[uint32]bool, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list sockets of pid %d: %w", pid, err)
	}
	inodes := make(map[uint32]bool)
	for _, e := range ents {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		s, ok := strings.CutPrefix(link, "socket:[")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 32); err == nil {
			inodes[uint32(n)] = true
		}
	}
	return inodes, nil
}

// Sizes and offsets of the sock_diag messages (linux/inet_diag.h).
const (
	inetDiagReqLen = 56 // struct inet_diag_req_v2
	inetDiagMsgLen = 72 // struct inet_diag_msg
	inetDiagInfo   = 2  // INET_DIAG_INFO: the attribute holding struct tcp_info
	tcpEstablished = 1
)

// dumpTCPInfo asks the kernel for every established IPv4 TCP socket with
// its tcp_info and calls fn with each one's remote port, inode and info.
func dumpTCPInfo(fn func(dport uint16, inode uint32, info []byte)) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return fmt.Errorf("sock_diag socket: %w", err)
	}
	defer unix.Close(fd)

	req := make([]byte, unix.NLMSG_HDRLEN+inetDiagReqLen)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:], 1) // sequence number
	r := req[unix.NLMSG_HDRLEN:]
	r[0], r[1], r[2] = unix.AF_INET, unix.IPPROTO_TCP, 1<<(inetDiagInfo-1)
	binary.NativeEndian.PutUint32(r[4:], 1<<tcpEstablished)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag request: %w", err)
	}

	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("sock_diag reply: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("sock_diag reply: %w", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if errno := -int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 {
						return fmt.Errorf("sock_diag: %w", unix.Errno(errno))
					}
				}
				return errors.New("sock_diag: error reply")
			}
			if len(m.Data) < inetDiagMsgLen {
				continue
			}
			dport := binary.BigEndian.Uint16(m.Data[6:]) // id.idiag_dport, network order
			inode := binary.NativeEndian.Uint32(m.Data[68:])
			for b := m.Data[inetDiagMsgLen:]; len(b) >= unix.SizeofRtAttr; {
				l, typ := int(binary.NativeEndian.Uint16(b)), binary.NativeEndian.Uint16(b[2:])
				if l < unix.SizeofRtAttr || l > len(b) {
					break
				}
				if typ == inetDiagInfo {
					fn(dport, inode, b[unix.SizeofRtAttr:l])
				}
				b = b[min(len(b), (l+3)&^3):]
			}
		}
	}
}
