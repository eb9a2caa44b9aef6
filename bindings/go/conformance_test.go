package meshlink_test

// Replays schemas/conformance/*.json against a real sidecar, as the TypeScript and Python tests do.
// Format and order: schemas/conformance/README.md. Replies are validated against the JSON Schemas,
// and every result is also decoded strictly (unknown fields refused) into its generated struct.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/go-zeromq/zmq4"
	"github.com/santhosh-tekuri/jsonschema/v6"

	meshlink "github.com/meshlink/meshlink/bindings/go"
)

type fixture struct {
	Description string          `json:"description"`
	Request     json.RawMessage `json:"request"`
	Raw         *string         `json:"raw"`
	Stops       bool            `json:"stops"`
	Expect      struct {
		ID     any               `json:"id"`
		Error  string            `json:"error"`
		Data   any               `json:"data"`
		Result string            `json:"result"`
		Match  any               `json:"match"`
		Save   map[string]string `json:"save"`
		Events []struct {
			Event string `json:"event"`
			Match any    `json:"match"`
		} `json:"events"`
	} `json:"expect"`
}

var schemasDir = filepath.Join(repo, "schemas")

// schemaLoader serves meshlink:/<path> (the schemas' $ids, which the library normalises to
// meshlink:///<path>) from schemas/.
type schemaLoader struct{}

func (schemaLoader) Load(url string) (any, error) {
	rel := strings.TrimLeft(strings.TrimPrefix(url, "meshlink:"), "/")
	f, err := os.Open(filepath.Join(schemasDir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

func compiler(t *testing.T) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(jsonschema.SchemeURLLoader{"meshlink": schemaLoader{}})
	// JSON Schema patterns are ECMA-262 regular expressions (the schemas use \uXXXX escapes, which
	// Go's RE2 syntax lacks), as Ajv and Python's jsonschema read them
	c.UseRegexpEngine(func(pattern string) (jsonschema.Regexp, error) {
		re, err := regexp2.Compile(pattern, regexp2.ECMAScript)
		if err != nil {
			return nil, err
		}
		return ecmaRegexp{re}, nil
	})
	return c
}

type ecmaRegexp struct{ re *regexp2.Regexp }

func (r ecmaRegexp) MatchString(s string) bool {
	ok, err := r.re.MatchString(s)
	return err == nil && ok
}

func (r ecmaRegexp) String() string { return r.re.String() }

type validators struct {
	c     *jsonschema.Compiler
	cache map[string]*jsonschema.Schema
}

func (v *validators) check(t *testing.T, ref string, doc []byte, what string) {
	t.Helper()
	s, ok := v.cache[ref]
	if !ok {
		var err error
		if s, err = v.c.Compile(ref); err != nil {
			t.Fatalf("compile %s: %v", ref, err)
		}
		v.cache[ref] = s
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", what, err)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("%s breaks %s: %v\n%s", what, ref, err, doc)
	}
}

var placeholder = regexp.MustCompile(`\{\{(\w+)\}\}`)

func subst(t *testing.T, vars map[string]any, x any) any {
	switch v := x.(type) {
	case string:
		return placeholder.ReplaceAllStringFunc(v, func(m string) string {
			name := m[2 : len(m)-2]
			val, ok := vars[name]
			if !ok {
				t.Fatalf("placeholder %s used before any fixture saved it", m)
			}
			return fmt.Sprint(val)
		})
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = subst(t, vars, e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = subst(t, vars, e)
		}
		return out
	}
	return x
}

// subset: every key of want is in got with a matching value (objects key by key, the rest exactly).
func subset(got, want any, path string) error {
	if w, ok := want.(map[string]any); ok {
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s should be an object, is %v", path+"/", got)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s/%s is missing", path, k)
			}
			if err := subset(gv, wv, path+"/"+k); err != nil {
				return err
			}
		}
		return nil
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("%s differs: %v != %v", path+"/", got, want)
	}
	return nil
}

func pointer(doc any, ptr string) any {
	for _, raw := range strings.Split(ptr, "/")[1:] {
		key := strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~")
		doc = doc.(map[string]any)[key]
	}
	return doc
}

func decodeJSON(b []byte) any {
	var v any
	_ = json.Unmarshal(b, &v)
	return v
}

// strictDecode decodes into the generated result type, refusing fields it does not know.
func strictDecode(method string, raw json.RawMessage) error {
	v := meshlink.NewResult(method)
	if v == nil {
		return fmt.Errorf("no generated result type for %s", method)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func TestConformance(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(schemasDir, "conformance", "*.json"))
	sort.Strings(files)
	if len(files) < 25 {
		t.Fatalf("only %d fixtures", len(files))
	}
	s := startSidecar(t, "conformance")
	v := &validators{c: compiler(t), cache: map[string]*jsonschema.Schema{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := zmq4.NewSub(ctx)
	defer sub.Close()
	if err := sub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	if err := sub.Dial(s.info.Events); err != nil {
		t.Fatal(err)
	}
	events := make(chan zmq4.Msg, 256)
	go func() {
		for {
			m, err := sub.Recv()
			if err != nil {
				close(events)
				return
			}
			events <- m
		}
	}()
	dealer := zmq4.NewDealer(ctx)
	defer dealer.Close()
	if err := dealer.Dial(s.info.Router); err != nil {
		t.Fatal(err)
	}
	replies := make(chan zmq4.Msg, 16)
	go func() {
		for {
			m, err := dealer.Recv()
			if err != nil {
				close(replies)
				return
			}
			replies <- m
		}
	}()
	time.Sleep(200 * time.Millisecond) // let the subscription reach the PUB socket
	vars := map[string]any{"token": s.info.Token}
	var lastSeq float64

	nextEvent := func(t *testing.T, deadline time.Time) (map[string]any, bool) {
		select {
		case m, ok := <-events:
			if !ok {
				t.Fatal("the event socket closed")
			}
			if len(m.Frames) != 2 {
				t.Fatalf("an event is 2 frames, got %d", len(m.Frames))
			}
			v.check(t, "meshlink:/envelope.json#/$defs/Event", m.Frames[1], "event")
			e := decodeJSON(m.Frames[1]).(map[string]any)
			name := e["event"].(string)
			if string(m.Frames[0]) != name {
				t.Fatalf("topic frame %q for event %q", m.Frames[0], name)
			}
			data, _ := json.Marshal(e["data"])
			v.check(t, "meshlink:/events/"+name+".json", data, name+" data")
			if seq := e["seq"].(float64); lastSeq != 0 && seq != lastSeq+1 {
				t.Fatalf("seq jumped from %v to %v", lastSeq, seq)
			}
			lastSeq = e["seq"].(float64)
			return e, true
		case <-time.After(time.Until(deadline)):
			return nil, false
		}
	}

	for i, file := range files {
		name := filepath.Base(file)
		ok := t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var fx fixture
			if err := json.Unmarshal(b, &fx); err != nil {
				t.Fatal(err)
			}
			if fx.Stops && i != len(files)-1 {
				t.Fatal("only the last fixture may stop the sidecar")
			}
			var frame []byte
			if fx.Raw != nil {
				frame = []byte(subst(t, vars, *fx.Raw).(string))
			} else {
				frame, _ = json.Marshal(subst(t, vars, decodeJSON(fx.Request)))
			}
			if err := dealer.Send(zmq4.NewMsg(frame)); err != nil {
				t.Fatal(err)
			}
			var reply []byte
			select {
			case m, ok := <-replies:
				if !ok {
					t.Fatal("the request socket closed")
				}
				reply = m.Frames[len(m.Frames)-1]
			case <-time.After(10 * time.Second):
				t.Fatal("no reply within 10 s")
			}
			v.check(t, "meshlink:/envelope.json#/$defs/Response", reply, "reply")
			msg := decodeJSON(reply).(map[string]any)
			if !reflect.DeepEqual(msg["id"], fx.Expect.ID) {
				t.Fatalf("reply id %v, want %v", msg["id"], fx.Expect.ID)
			}
			if fx.Expect.Error != "" {
				e, ok := msg["error"].(map[string]any)
				if !ok || e["code"] != fx.Expect.Error {
					t.Fatalf("want error %s, got %s", fx.Expect.Error, reply)
				}
				if fx.Expect.Data != nil {
					if err := subset(e["data"], subst(t, vars, fx.Expect.Data), "/error/data"); err != nil {
						t.Fatal(err)
					}
				}
			} else {
				result, ok := msg["result"]
				if !ok {
					t.Fatalf("want a result, got %s", reply)
				}
				raw, _ := json.Marshal(result)
				v.check(t, "meshlink:/methods/"+fx.Expect.Result+".json#/$defs/result", raw, "result")
				if err := strictDecode(fx.Expect.Result, raw); err != nil {
					t.Fatalf("generated %s result type: %v", fx.Expect.Result, err)
				}
				for k, ptr := range fx.Expect.Save {
					vars[k] = pointer(result, ptr)
				}
				if fx.Expect.Match != nil {
					if err := subset(result, subst(t, vars, fx.Expect.Match), "/result"); err != nil {
						t.Fatal(err)
					}
				}
			}
			deadline := time.Now().Add(5 * time.Second)
			for _, want := range fx.Expect.Events {
				match := subst(t, vars, want.Match)
				var seen []string
				for {
					e, ok := nextEvent(t, deadline)
					if !ok {
						t.Fatalf("no %s event matching %v within 5 s; saw %v", want.Event, match, seen)
					}
					seen = append(seen, fmt.Sprint(e["event"], e["data"]))
					if e["event"] == want.Event && (match == nil || subset(e["data"], match, "") == nil) {
						break
					}
				}
			}
			if fx.Stops {
				if !s.waitExit(15 * time.Second) {
					t.Fatal("the sidecar did not exit within 15 s of node.shutdown")
				}
				if s.exitCode != 0 {
					t.Fatalf("exit code %d after node.shutdown", s.exitCode)
				}
				if _, err := os.Stat(filepath.Join(s.stateDir, "api.json")); !os.IsNotExist(err) {
					t.Fatal("api.json is still there after shutdown")
				}
			}
		})
		_ = ok
	}
}
