package docker

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// useBuildKit decides the builder. prefect-docker builds through docker-py,
// which always gets the Engine's legacy builder, so that is the default:
// images then match `prefect deploy`'s. DOCKER_BUILDKIT=1 selects BuildKit
// (the daemon's own, fed the context as a tar; no session, so no build
// secrets or ssh forwarding), as it does for the docker CLI.
func useBuildKit(environ func(string) (string, bool)) bool {
	if environ == nil {
		return false
	}
	v, _ := environ("DOCKER_BUILDKIT")
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// bkVertex is the part of a BuildKit vertex (one build step) we render.
type bkVertex struct {
	digest, name, err string
	cached            bool
	started           bool
	completed         bool
}

type bkLog struct {
	vertex string
	msg    []byte
}

type bkStatus struct {
	vertexes []bkVertex
	logs     []bkLog
	warnings []bkLog
}

// decodeBuildKitTrace decodes a moby.buildkit.trace aux payload: a base64
// JSON string holding a protobuf moby.buildkit.v1.StatusResponse. Only the
// fields progress rendering needs are read; unknown fields are skipped.
func decodeBuildKitTrace(aux json.RawMessage) (*bkStatus, error) {
	var b64 string
	if err := json.Unmarshal(aux, &b64); err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, err
	}
	st := &bkStatus{}
	err = eachField(raw, func(num, _ int, _ uint64, b []byte) error {
		switch num {
		case 1: // Vertex
			var vx bkVertex
			err := eachField(b, func(n, _ int, x uint64, fb []byte) error {
				switch n {
				case 1:
					vx.digest = string(fb)
				case 3:
					vx.name = string(fb)
				case 4:
					vx.cached = x != 0
				case 5:
					vx.started = true
				case 6:
					vx.completed = true
				case 7:
					vx.err = string(fb)
				}
				return nil
			})
			if err != nil {
				return err
			}
			st.vertexes = append(st.vertexes, vx)
		case 3, 4: // VertexLog {vertex=1, msg=4}; VertexWarning {vertex=1, short=3}
			var l bkLog
			msgField := 4
			if num == 4 {
				msgField = 3
			}
			err := eachField(b, func(n, _ int, _ uint64, fb []byte) error {
				switch n {
				case 1:
					l.vertex = string(fb)
				case msgField:
					l.msg = append([]byte(nil), fb...)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if num == 3 {
				st.logs = append(st.logs, l)
			} else {
				st.warnings = append(st.warnings, l)
			}
		}
		return nil
	})
	return st, err
}

var errProto = errors.New("malformed BuildKit progress message")

// eachField walks a protobuf message: fn gets the field number, wire type,
// the varint value (wire 0) or the bytes (wire 2).
func eachField(b []byte, fn func(num, wire int, v uint64, data []byte) error) error {
	for len(b) > 0 {
		key, n := uvarint(b)
		if n <= 0 {
			return errProto
		}
		b = b[n:]
		num, wire := int(key>>3), int(key&7)
		switch wire {
		case 0:
			v, n := uvarint(b)
			if n <= 0 {
				return errProto
			}
			b = b[n:]
			if err := fn(num, wire, v, nil); err != nil {
				return err
			}
		case 1:
			if len(b) < 8 {
				return errProto
			}
			b = b[8:]
		case 2:
			l, n := uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return errProto
			}
			data := b[n : n+int(l)]
			b = b[n+int(l):]
			if err := fn(num, wire, 0, data); err != nil {
				return err
			}
		case 5:
			if len(b) < 4 {
				return errProto
			}
			b = b[4:]
		default:
			return errProto
		}
	}
	return nil
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	var s uint
	for i, c := range b {
		if i == 10 {
			return 0, -1
		}
		if c < 0x80 {
			return x | uint64(c)<<s, i + 1
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, 0
}

// bkPrinter renders BuildKit progress like `docker build --progress=plain`.
type bkPrinter struct {
	w       io.Writer
	num     map[string]int
	named   map[string]bool
	done    map[string]bool
	started map[string]time.Time
	next    int
}

func newBKPrinter(w io.Writer) *bkPrinter {
	return &bkPrinter{w: w, num: map[string]int{}, named: map[string]bool{}, done: map[string]bool{}, started: map[string]time.Time{}}
}

func (p *bkPrinter) id(d string) int {
	n, ok := p.num[d]
	if !ok {
		p.next++
		n = p.next
		p.num[d] = n
	}
	return n
}

func (p *bkPrinter) print(st *bkStatus) {
	for _, v := range st.vertexes {
		n := p.id(v.digest)
		if !p.named[v.digest] && (v.started || v.cached || v.completed) {
			p.named[v.digest] = true
			p.started[v.digest] = time.Now()
			fmt.Fprintf(p.w, "#%d %s\n", n, v.name)
		}
		if p.done[v.digest] {
			continue
		}
		switch {
		case v.err != "":
			p.done[v.digest] = true
			fmt.Fprintf(p.w, "#%d ERROR: %s\n", n, v.err)
		case v.cached:
			p.done[v.digest] = true
			fmt.Fprintf(p.w, "#%d CACHED\n", n)
		case v.completed:
			p.done[v.digest] = true
			fmt.Fprintf(p.w, "#%d DONE %.1fs\n", n, time.Since(p.started[v.digest]).Seconds())
		}
	}
	for _, l := range st.logs {
		n := p.id(l.vertex)
		for _, line := range strings.Split(strings.TrimRight(string(l.msg), "\n"), "\n") {
			fmt.Fprintf(p.w, "#%d %s\n", n, line)
		}
	}
	for _, w := range st.warnings {
		fmt.Fprintf(p.w, "#%d WARN: %s\n", p.id(w.vertex), strings.TrimSpace(string(w.msg)))
	}
}
