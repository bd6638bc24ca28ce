//! Accepting connections under load and against slow clients.
//!
//! - The listening socket has a backlog of 4,096 (the usual kernel cap), so a burst of
//!   concurrent connections queues instead of being reset.
//! - Accept errors (out of file descriptors, aborted handshakes) pause accepting for a moment
//!   instead of ending the server.
//! - A client has [`HEADER_TIMEOUT`] to send its request line and headers (a connection that
//!   dribbles headers, or opens and stays silent, is closed), and [`BODY_TIMEOUT`] to send its
//!   body (checked where the body is read, `408 request_timeout`).

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket};

/// Time a client has to send its request line and headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Time a client has to send a request body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(120);
/// Pending connections the kernel queues before they are accepted.
const BACKLOG: u32 = 4096;

/// Binds `bind` with a large backlog.
pub fn listen(bind: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if bind.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(bind)?;
    socket.listen(BACKLOG)
}

/// Serves `app` on `listener` (HTTP/1.1, keep-alive) until `shutdown` resolves, then lets the
/// open connections finish their current request.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => {
                    // EMFILE, ECONNABORTED...: the next accept may work; do not spin.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .keep_alive(true);
        let svc = TowerToHyperService::new(app.clone());
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), svc));
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    Ok(())
}
