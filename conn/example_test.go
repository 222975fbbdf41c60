package conn_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mpgs/mpgameserver/conn"
)

// A server's root key: made once (mpgameserver keygen does the same),
// kept secret by the server; clients pin its public half.
func ExampleGenerateKey() {
	dir, _ := os.MkdirTemp("", "keys")
	defer os.RemoveAll(dir)

	root, err := conn.GenerateKey(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	conn.SavePrivateKey(filepath.Join(dir, "root.key"), root)         // for server.Config.RootKey
	conn.SavePublicKey(filepath.Join(dir, "root.pub"), root.Public()) // for client.Config.ServerKey

	pinned, _ := conn.LoadPublicKey(filepath.Join(dir, "root.pub"))
	fmt.Println("the client pins the server's key:", pinned.Equal(root.Public()))
	// Output:
	// the client pins the server's key: true
}

// Why a connection ended, classified with errors.Is.
func ExampleStatus() {
	reason := fmt.Errorf("client: %w", conn.ErrTimeout) // as Err() returns it
	status := conn.Dropped
	fmt.Println(status, status.Closed())
	switch {
	case errors.Is(reason, conn.ErrTimeout):
		fmt.Println("the peer went silent")
	case errors.Is(reason, conn.ErrPeerClosed):
		fmt.Println("the peer said goodbye")
	}
	// Output:
	// DROPPED true
	// the peer went silent
}
