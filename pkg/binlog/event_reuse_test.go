package binlog

import (
	"bytes"

	"context"
	"github.com/go-mysql-org/go-mysql/replication"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// fixtureAndCorpusFiles lists the fixture binlogs, and every file of the corpus when present.
func fixtureAndCorpusFiles() []string {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*", "mysql-bin.[0-9]*"))
	if _, err := os.Stat(corpusDir); err == nil {
		filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() != "MANIFEST.md" {
				files = append(files, p)
			}
			return nil
		})
	}
	return files
}

// TestEventReuse: decoding into an Event that held another event (as the Prefetcher's reused
// slots and FileSource's own Event do) gives exactly what decoding into a zero Event gives, for
// every event of the fixtures and of the corpus when present, whatever kind came before.
func TestEventReuse(t *testing.T) {
	files := fixtureAndCorpusFiles()
	if len(files) == 0 {
		t.Fatal("no binlogs")
	}
	ctx := context.Background()
	events := 0
	for _, path := range files {
		// Events of every kind the file has, to leave behind in the Event decoded into.
		var dirty []Event
		src, err := OpenFiles([]string{path}, FileOptions{})
		if err != nil {
			continue
		}
		for {
			src.ev = new(Event)
			ev, err := src.Next(ctx)
			if err != nil {
				break
			}
			dirty = append(dirty, *ev)
		}
		src.Close()
		for _, shift := range []int{1, 2, 3, 5} {
			ref, err1 := OpenFiles([]string{path}, FileOptions{})
			got, err2 := OpenFiles([]string{path}, FileOptions{})
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			for i := 0; ; i++ {
				ref.ev = new(Event)
				want, werr := ref.Next(ctx)
				d := new(Event)
				if len(dirty) > 0 {
					*d = dirty[(i+shift)%len(dirty)]
				}
				got.ev = d
				ev, gerr := got.Next(ctx)
				if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
					t.Fatalf("%s event %d: error %v, decoding into a zero Event: %v", path, i, gerr, werr)
				}
				if werr != nil {
					break
				}
				events++
				if !reflect.DeepEqual(ev, want) {
					t.Fatalf("%s event %d (%s, after a %s): decoded into a used Event\n%+v\nwant\n%+v", path, i, want.Header.Type,
						dirty[(i+shift)%len(dirty)].Header.Type, ev, want)
				}
			}
			ref.Close()
			got.Close()
		}
	}
	t.Logf("%d events of %d files", events, len(files))
}

// TestDecoderKeepsNoEventBytes: the decoder keeps nothing that points into the bytes of an
// event once it is decoded. A Prefetcher reuses its read buffers, and unmaps the windows of a
// mapped file, once the consumer is past their events: a decoding that still read them (as
// go-mysql's parser did with the format event it was given) would read another event's bytes,
// or fault. Every event is decoded from a copy that is then overwritten, and must decode as
// from bytes left alone.
func TestDecoderKeepsNoEventBytes(t *testing.T) {
	files := fixtureAndCorpusFiles()
	events := 0
	for _, path := range files {
		fr, err := openFile(path)
		if err != nil {
			continue
		}
		ref, dec := newDecoder(), newDecoder()
		var refFmt, fmt2 *format
		for {
			at := fr.pos()
			h, raw, err := fr.next()
			if err != nil {
				break
			}
			if h.Type == replication.TRANSACTION_PAYLOAD_EVENT {
				continue
			}
			keep, scratch := bytes.Clone(raw), bytes.Clone(raw)
			body1, err1 := checkEvent(&refFmt, h, keep, at)
			body2, err2 := checkEvent(&fmt2, h, scratch, at)
			if err1 != nil || err2 != nil {
				break
			}
			want, got := new(Event), new(Event)
			want.reuse(at, fr.off, h, body1)
			got.reuse(at, fr.off, h, body2)
			werr, gerr := ref.decode(want, keep, refFmt), dec.decode(got, scratch, fmt2)
			if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %s event at %s decodes differently once earlier events' bytes are overwritten: %+v (%v), want %+v (%v)",
					path, h.Type, at, got, gerr, want, werr)
			}
			events++
			// 6 is the post-header length that makes go-mysql read a table map's id as 4 bytes.
			for i := range scratch {
				scratch[i] = 6
			}
		}
		fr.Close()
	}
	if events == 0 {
		t.Fatal("no events")
	}
	t.Logf("%d events of %d files", events, len(files))
}
