package docker

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestDecodeBuildKitTrace(t *testing.T) {
	aux := json.RawMessage(`"Cm8KR3NoYTI1NjoyZGY1NjhjYTY3M2U0ZGQzZDA2ZmI1ZDFhMDFmZThiN2YwNGQ3ZDhiMjk5NWViMjMyZTdmYTFhNDRiMDQxODEwGiRbaW50ZXJuYWxdIGxvYWQgcmVtb3RlIGJ1aWxkIGNvbnRleHQ="`)
	st, err := decodeBuildKitTrace(aux)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.vertexes) != 1 || st.vertexes[0].name != "[internal] load remote build context" ||
		st.vertexes[0].digest != "sha256:2df568ca673e4dd3d06fb5d1a01fe8b7f04d7d8b2995eb232e7fa1a44b041810" {
		t.Fatalf("decoded %+v", st)
	}
	for _, bad := range []string{`"////"`, `"CgU="`, `42`, `"Cv////////////8B"`} {
		if _, err := decodeBuildKitTrace(json.RawMessage(bad)); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
}

// TestBuildKitStreamRendering replays a recorded BuildKit stream of a
// failing `RUN echo hello-out && echo to-err >&2 && exit 3`.
func TestBuildKitStreamRendering(t *testing.T) {
	f, err := os.Open("testdata/buildkit-fail.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	p := newBKPrinter(&out)
	var failure string
	err = readMessages(f, func(m *message) error {
		if m.ID == "moby.buildkit.trace" {
			st, err := decodeBuildKitTrace(m.Aux)
			if err != nil {
				return err
			}
			p.print(st)
		}
		if e := m.err(); e != "" {
			failure = e
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"] RUN echo hello-out && echo to-err >&2 && exit 3\n", " hello-out\n", " to-err\n", " ERROR: executor failed running"} {
		if !strings.Contains(got, want) {
			t.Errorf("rendered output lacks %q:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(failure, "exit code: 3") {
		t.Errorf("failure = %q", failure)
	}
}

// FuzzBuildKitProto checks the protobuf walker never panics or loops on
// arbitrary bytes.
func FuzzBuildKitProto(f *testing.F) {
	f.Add([]byte{0x0a, 0x05, 'a', 'b', 'c', 'd', 'e'})
	f.Add([]byte{0x08, 0x96, 0x01, 0x1a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = eachField(b, func(int, int, uint64, []byte) error { return nil })
	})
}
