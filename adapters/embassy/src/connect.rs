//! How the driver gets a transport: a [`Connect`]or opens one connection at a time, which
//! may borrow the connector's buffers (socket and TLS record buffers stay with the caller).

use embedded_io_async::{Read, Write};

/// Opens connections for the driver.
pub trait Connect {
    /// Why a connection could not be opened, said to the app through
    /// [`Handler::connect_failed`](crate::Handler::connect_failed).
    type Error: core::fmt::Debug + core::fmt::Display;
    /// An open connection. It may borrow the connector, so only one is open at a time.
    type Conn<'c>: Read + Write + Close
    where
        Self: 'c;

    /// Opens a connection to the server (`wss://` when `tls`).
    async fn connect(&mut self, tls: bool) -> Result<Self::Conn<'_>, Self::Error>;
}

/// A connection that can be shut down politely (FIN for TCP, close_notify for TLS).
pub trait Close {
    /// Shuts the connection down; errors are ignored (it is going away either way).
    async fn close(&mut self);
}

impl<T: Close + ?Sized> Close for &mut T {
    async fn close(&mut self) {
        T::close(self).await
    }
}
