package agones

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// WatchGameServer calls fn with the GameServer each time the sidecar
// reports it (the sidecar sends the current one first, then every
// change), one call at a time on the calling goroutine. When the stream
// ends or fails, it reconnects with backoff; it returns only when ctx is
// done, with ctx's error.
//
// Each object of the stream is at most MaxLine bytes: a longer line ends
// the stream; a line that is not an object of the stream is skipped and
// logged (at a limited rate).
func (s *SDK) WatchGameServer(ctx context.Context, fn func(*GameServer)) error {
	bo := newBackoff()
	for {
		events, err := s.watchOnce(ctx, fn)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if events > 0 {
			bo.reset()
		}
		if err == nil {
			err = errors.New("the sidecar ended the stream")
		}
		if ok, held := s.lim.allow("watch"); ok {
			s.log.Warn("agones: watching the GameServer: reconnecting", "err", err.Error(), "suppressed", held)
		}
		if err := sleep(ctx, bo.next()); err != nil {
			return err
		}
	}
}

// watchOnce follows one stream until it ends; it returns how many
// GameServers it passed to fn.
func (s *SDK) watchOnce(ctx context.Context, fn func(*GameServer)) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := s.send(ctx, "watch gameserver", http.MethodGet, "/watch/gameserver", nil, 0)
	if err != nil {
		return 0, err
	}
	defer resp.close()
	br := bufio.NewReaderSize(resp.Body, 32<<10)
	var buf []byte
	n := 0
	for {
		line, err := readLine(br, buf[:0], MaxLine)
		buf = line[:0]
		if line = bytes.TrimSpace(line); len(line) > 0 {
			var ev watchEvent
			switch jerr := json.Unmarshal(line, &ev); {
			case jerr != nil || (ev.Result == nil && ev.Error == nil):
				if ok, held := s.lim.allow("watch-junk"); ok {
					s.log.Warn("agones: watching the GameServer: skipped a line that is not an event",
						"bytes", len(line), "start", string(line[:min(len(line), 64)]), "suppressed", held)
				}
			case ev.Error != nil:
				return n, ev.Error
			default:
				n++
				fn(ev.Result.gameServer())
			}
		}
		if err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
		if cap(buf) > 64<<10 {
			buf = nil // a long line's buffer is not kept for the rest
		}
	}
}

// readLine appends to buf the next line of br, its newline included,
// reading at most max bytes: a longer line is errLineTooLong. At the end
// of the stream it returns what is left and io.EOF.
func readLine(br *bufio.Reader, buf []byte, max int) ([]byte, error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > max {
			return buf[:0], errLineTooLong
		}
		buf = append(buf, chunk...)
		if err != bufio.ErrBufferFull {
			return buf, err
		}
	}
}
