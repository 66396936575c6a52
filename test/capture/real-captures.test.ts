// Every public starter capture must read without error, with the packet count
// that `capinfos -c` reports for it and the first packet time tshark shows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { capture } from "../helpers/captures.js";
import { nanosecondsOf, readAll } from "./fixtures.js";

// firstPacketTime: seconds since 1970 with nine decimals, as `tshark -T fields
// -e frame.time_epoch` prints the first packet.
interface KnownCapture { file: string; packets: number; firstPacketTime: string; contents: string }

const CAPTURES: KnownCapture[] = [
  { file: "modbus/zeek_modbusSmall_coils.pcap", packets: 166, firstPacketTime: "1400547199.329569000", contents: "Modbus FC1 read coils and FC15 write multiple coils" },
  { file: "modbus/zeek_modbus-eit_fc43_device_id.pcap", packets: 4, firstPacketTime: "1445425491.170028000", contents: "Modbus FC43/14 read device identification, exception 4" },
  { file: "modbus/zeek_fuzz-1011_gaps_bogus_ip.pcap", packets: 6, firstPacketTime: "1342774616.064496000", contents: "fuzzed Modbus with TCP gaps and a bogus IP frame" },
  { file: "modbus/zeek_4SICS-min_length_mismatch.pcap", packets: 2, firstPacketTime: "1445502056.228889000", contents: "Modbus FC23 with a length mismatch, exception 10" },
  { file: "modbus/zeek_modbus-and-non-modbus-p502.pcap", packets: 86, firstPacketTime: "1093522326.102435000", contents: "Modbus and non-Modbus traffic on port 502" },
  { file: "modbus/suricata_modbus_fc8_diag_fc43.pcap", packets: 99, firstPacketTime: "1093521678.945447000", contents: "Modbus FC8 diagnostics, FC43, FC17, writes and exceptions" },
  { file: "modbus/icsnpp_modbus_example_many_fc.pcap", packets: 100, firstPacketTime: "1595660608.237857000", contents: "almost every public Modbus function code, 9 unit ids" },
  { file: "modbus/iti_plant1_modbus_normal_polling.pcap", packets: 15387, firstPacketTime: "1352718180.264365000", contents: "normal plant polling, 1 master and 13 outstations" },
  { file: "smb/zeek_smb2readwrite.pcap", packets: 56, firstPacketTime: "1549644186.686127000", contents: "SMB2 file create, read and write" },
  { file: "smb/zeek_smb3.pcap", packets: 54, firstPacketTime: "1495015336.523633000", contents: "SMB3 NTLM logon and an encrypted share" },
  { file: "smb/zeek_smb2_compound_payroll.pcap", packets: 36, firstPacketTime: "1403194573.483536000", contents: "SMB2 compound requests and a file read" },
  { file: "smb/zeek_smb2.pcap", packets: 1178, firstPacketTime: "1323202695.370647000", contents: "SMB2 NTLM logon, srvsvc and a 1.5 MB file upload" },
  { file: "smb/zeek_smb2-zero-byte-error-ioctl.pcapng", packets: 180, firstPacketTime: "1659460970.430587000", contents: "pcapng: SMB2 NTLM, srvsvc and lsarpc, zero-byte error IOCTL" },
  { file: "dcerpc/401trg_smb_at_schedule_atsvc.pcap", packets: 20, firstPacketTime: "1508525002.992213000", contents: "remote AT job through ATSVC NetrJobAdd" },
  { file: "dcerpc/401trg_smb_psexec_add_user_svcctl.pcap", packets: 400, firstPacketTime: "1507567478.059936000", contents: "PsExec: PSEXESVC.exe on ADMIN$ and svcctl" },
  { file: "dcerpc/401trg_smb_net_user_samr_lsarpc.pcap", packets: 155, firstPacketTime: "1507562478.109370000", contents: "net user over SMB2: samr and lsarpc" },
  { file: "dcerpc/suricata_psexec_mimikatz_ticket_dump-s2_svcctl.pcap", packets: 48, firstPacketTime: "1507565599.589571000", contents: "svcctl part of a PsExec session" },
  { file: "dcerpc/zeek_cs_window7-join_stream092_drsuapi.pcap", packets: 20, firstPacketTime: "1347446180.314510000", contents: "DRSUAPI bind and DsCrackNames during a domain join" },
  { file: "dcerpc/zeek_dce_rpc_netlogon.pcapng", packets: 4, firstPacketTime: "1616663658.376970000", contents: "pcapng: netlogon NetrLogonSamLogonWithFlags" },
  { file: "dcerpc/zeek_mapi_tcp.pcap", packets: 800, firstPacketTime: "1056991896.686396000", contents: "Exchange MAPI over DCE-RPC/TCP with NTLM" },
  { file: "dcerpc/zeek_smb1_trans_dssetup.cap", packets: 9, firstPacketTime: "1073392738.144777000", contents: "SMB1 transaction on a named pipe carrying DSSETUP" },
  { file: "ntlm/zeek_dce_rpc_ntlm.pcapng", packets: 6, firstPacketTime: "1616663658.368794000", contents: "pcapng: DCE-RPC bind with NTLMSSP" },
  { file: "ntlm/zeek_ntlm-unterminated-av-sequence_malformed.pcap", packets: 5, firstPacketTime: "1056991898.900018000", contents: "NTLMSSP challenge whose AV_PAIR list lacks MsvAvEOL" },
  { file: "ntlm/zeek_raw_ntlm_in_smb.pcap", packets: 178, firstPacketTime: "1459928955.184071000", contents: "SMB1 logon with raw NTLMSSP, shares and pipes" },
  { file: "dnp3/zeek_dnp3_select_operate.pcap", packets: 13, firstPacketTime: "1324501737.744759000", contents: "DNP3 select then operate" },
  { file: "dnp3/iti_dnp3_cold_restart.pcap", packets: 10, firstPacketTime: "1422552943.631529000", contents: "DNP3 cold restart and its response" },
  { file: "s7comm/icsnpp_s7comm_snap7.pcap", packets: 64, firstPacketTime: "1454969289.930413000", contents: "S7comm SZL reads and block operations from Snap7" },
  { file: "s7comm/iti_step7_s300_plc_stop.pcap", packets: 4, firstPacketTime: "1397644178.422052000", contents: "S7comm PLC STOP job" },
  { file: "mixed/icsnpp_enip_set_attribute_single.pcapng", packets: 1, firstPacketTime: "1738823410.493630309", contents: "pcapng: EtherNet/IP CIP Set_Attribute_Single" },
  { file: "mixed/suricata_enip_list_identity.pcap", packets: 12, firstPacketTime: "1597823317.954479000", contents: "EtherNet/IP List Identity request and reply" },
];

for (const known of CAPTURES) {
  test(`${known.file} packet count (${known.contents})`, async () => {
    const path = capture(known.file);
    if (path === undefined) return;
    const { packets, batches, stats } = await readAll(path);
    assert.is(packets.length, known.packets, "packets in the batches");
    assert.is(stats.packets, known.packets, "packets in the statistics");
    assert.is(stats.truncatedRecords, 0, "truncated records");
    assert.is(stats.batches, batches.length, "batches in the statistics");
    assert.is(stats.format, known.file.endsWith(".pcapng") ? "pcapng" : "pcap", "format");
    assert.ok(stats.interfaces.length >= 1, "at least one interface");
    const [seconds, fraction] = known.firstPacketTime.split(".");
    assert.is(nanosecondsOf(packets[0]), BigInt(seconds) * 1_000_000_000n + BigInt(fraction), "first packet time");
    for (const packet of packets) {
      assert.ok(packet.captureLength <= packet.wireLength, "captured length within wire length");
    }
  });
}

test.run();
