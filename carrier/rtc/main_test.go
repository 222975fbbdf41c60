//go:build !js && !windows

package rtc_test

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/conn"
)

// TestMain runs the test binary as BenchmarkBulkEchoServer's client when
// that benchmark starts it so (bulkClientEnv), and as the tests
// otherwise.
func TestMain(m *testing.M) {
	if addr := os.Getenv(bulkClientEnv); addr != "" {
		if err := bulkClient(addr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// bulkClientEnv names the server address of BenchmarkBulkEchoServer's
// client process; bulkRoundsEnv, its round trips.
const (
	bulkClientEnv = "MPGS_BULK_CLIENT"
	bulkRoundsEnv = "MPGS_BULK_ROUNDS"
)

// bulkClient connects to addr, says "connected", waits for a line on
// standard input, then echoes a megabyte through the server
// bulkRoundsEnv times and says "done".
func bulkClient(addr string) error {
	rounds, err := strconv.Atoi(os.Getenv(bulkRoundsEnv))
	if err != nil {
		return err
	}
	pub, err := conn.LoadPublicKey(vectorKeys + "server_root.pub.pem")
	if err != nil {
		return err
	}
	c, err := connect(addr, pub)
	if err != nil {
		return err
	}
	defer c.ForceDisconnect()
	fmt.Println("connected")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	msg := make([]byte, bulkSize)
	msg[0] = 'G'
	for range rounds {
		if err := c.SendGuaranteed(msg, nil); err != nil {
			return err
		}
		for deadline := time.Now().Add(time.Minute); ; {
			c.Update()
			if ms := c.Messages(); len(ms) > 0 {
				if len(ms[0].Data) != bulkSize {
					return fmt.Errorf("echo of %d bytes", len(ms[0].Data))
				}
				break
			}
			if time.Now().After(deadline) || c.Status().Closed() {
				return fmt.Errorf("no echo: %v", c.Err())
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	fmt.Println("done")
	return nil
}
