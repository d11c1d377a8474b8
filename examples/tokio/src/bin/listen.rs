//! A tokio client that subscribes and prints every event: `listen KEY HOST PORT CHANNEL...`
//! (plain ws://; for Pusher itself use `Options::cluster`).

use pusher_std::pusher::Options;
use pusher_tokio::Pusher;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [key, host, port, channels @ ..] = args.as_slice() else {
        return Err("usage: listen KEY HOST PORT CHANNEL...".into());
    };
    let port: u16 = port.parse()?;
    let pusher = Pusher::connect(Options::host(key, host, port, port, false)).await?;
    let mut events = pusher.events();
    for channel in channels {
        pusher.subscribe(channel).await?;
        println!("subscribed to {channel}");
    }
    let mut errors = pusher.errors();
    loop {
        tokio::select! {
            Some(e) = next(&mut events) => {
                println!("{} {} {}", e.event, e.channel.as_deref().unwrap_or("-"), e.data.as_deref().unwrap_or(""));
            }
            Some(e) = next(&mut errors) => eprintln!("error: {e}"),
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    pusher.shutdown().await;
    Ok(())
}

async fn next<S: pusher_tokio::futures_core::Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *s).poll_next(cx)).await
}
