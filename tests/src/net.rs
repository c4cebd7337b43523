//! The network between the test devices and a real server on loopback.
//!
//! [`HoldingProxy`] is a TCP proxy in front of a server that can hold the server's answers
//! back: a slow server, for the cancellation tests, without any change to the server.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Gate {
    holding: AtomicBool,
    /// Requests that reached the proxy while it was holding.
    held: AtomicUsize,
    changed: Mutex<()>,
    cv: Condvar,
}

/// A TCP proxy on 127.0.0.1 in front of `upstream`. While holding ([`Self::hold`]), it reads
/// each request and passes it on, but keeps the answer back until [`Self::release`]: to the
/// device, the server is as slow as the test wants.
pub struct HoldingProxy {
    addr: SocketAddr,
    gate: Arc<Gate>,
}

impl HoldingProxy {
    /// Starts the proxy (not holding).
    pub fn start(upstream: SocketAddr) -> HoldingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let gate = Arc::new(Gate::default());
        let g = gate.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let g = g.clone();
                std::thread::spawn(move || relay(client, upstream, g));
            }
        });
        HoldingProxy { addr, gate }
    }

    /// The proxy's URL, for the device's settings.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, answers are held back.
    pub fn hold(&self) {
        self.gate.holding.store(true, Ordering::SeqCst);
    }

    /// Answers flow again, the held ones first.
    pub fn release(&self) {
        let _guard = self.gate.changed.lock().unwrap();
        self.gate.holding.store(false, Ordering::SeqCst);
        self.gate.cv.notify_all();
    }

    /// Waits until a request reached the proxy while it was holding (up to `timeout`);
    /// returns whether one did.
    pub fn wait_for_held_request(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut guard = self.gate.changed.lock().unwrap();
        while self.gate.held.load(Ordering::SeqCst) == 0 {
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            guard = self.gate.cv.wait_timeout(guard, deadline - now).unwrap().0;
        }
        true
    }
}

fn relay(client: TcpStream, upstream: SocketAddr, gate: Arc<Gate>) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let (Ok(mut client_in), Ok(mut server_out)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up_gate = gate.clone();
    // Device → server, as it comes; noting a request that arrives while holding.
    let up = std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match client_in.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if up_gate.holding.load(Ordering::SeqCst) {
                        let _guard = up_gate.changed.lock().unwrap();
                        up_gate.held.fetch_add(1, Ordering::SeqCst);
                        up_gate.cv.notify_all();
                    }
                    if server_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = server_out.shutdown(Shutdown::Write);
    });
    // Server → device, held back while the gate holds.
    let (mut server_in, mut client_out) = (server, client);
    let mut buf = [0u8; 16 * 1024];
    loop {
        match server_in.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                {
                    let mut guard = gate.changed.lock().unwrap();
                    while gate.holding.load(Ordering::SeqCst) {
                        guard = gate.cv.wait(guard).unwrap();
                    }
                }
                if client_out.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = client_out.shutdown(Shutdown::Both);
    let _ = up.join();
}
