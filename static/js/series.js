// The usage series of every chart (the dashboard's fleet chart, the SIM page's charts), defined
// once: their order in legends and stacks, their labels and their colours. In a stack the
// first part is drawn on top of the second (received over sent, MO over MT), and the legend
// lists them in this order. The tables list their columns in the same order.
window.SimfleetSeries = Object.freeze({
  data: Object.freeze([
    Object.freeze({ key: "data_rx_mb", label: "Received (MB)", color: "#0f5cc0" }),
    Object.freeze({ key: "data_tx_mb", label: "Sent (MB)", color: "#e07b00" }),
  ]),
  sms: Object.freeze([
    Object.freeze({ key: "sms_mo", label: "SMS MO (from device)", color: "#1e7a3c" }),
    Object.freeze({ key: "sms_mt", label: "SMS MT (to device)", color: "#7b3fb3" }),
  ]),
  // The fleet chart has SMS as one line (MO and MT together).
  smsTotal: Object.freeze({ key: "sms", label: "SMS", color: "#b3261e" }),
});
