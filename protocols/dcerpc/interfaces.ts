// DCE-RPC interfaces and operations known by name: the interface UUID of a
// presentation context (C706 12.6.3.1 p_syntax_id_t) and the opnum of a
// request (C706 12.6.4.9) name the remote procedure.
//
// Names follow Zeek's dce_rpc.log (scripts/base/protocols/dce-rpc/consts.zeek,
// Zeek 6): its `endpoint` for the interface and its `operation` for the
// opnum, so that records compare row for row with Zeek. Zeek spells the
// SASec interface "sasec". Opnums without a name there (srvsvc 54, netlogon
// 47) stay unnamed. ITaskSchedulerService 18 and 19, eventlog, InitShutdown
// and IEventService are named after their specifications ([MS-TSCH] 3.2.5.4,
// [MS-EVEN] 3.1.4, [MS-RSP] 3.2.4, [MS-EVEN6] 3.1.4), and so are the WMI
// interfaces IWbemLevel1Login and IWbemServices ([MS-WMI] 3.1.4.1,
// 3.1.4.3), whose DCOM calls reach them through an alter_context.

// Returned when a UUID is not in the table.
@inline export const UNKNOWN_INTERFACE: i32 = -1;

export namespace Interface {
  @inline export const ATSVC: i32 = 0;
  @inline export const SASEC: i32 = 1;
  @inline export const TASK_SCHEDULER: i32 = 2;
  @inline export const SVCCTL: i32 = 3;
  @inline export const SAMR: i32 = 4;
  @inline export const LSARPC: i32 = 5;
  @inline export const SRVSVC: i32 = 6;
  @inline export const WINREG: i32 = 7;
  @inline export const DRSUAPI: i32 = 8;
  @inline export const EPMAPPER: i32 = 9;
  @inline export const NETLOGON: i32 = 10;
  @inline export const DSSETUP: i32 = 11;
  @inline export const WKSSVC: i32 = 12;
  @inline export const SPOOLSS: i32 = 13;
  @inline export const REMOTE_WINSPOOL: i32 = 14;
  @inline export const NSPI: i32 = 15;
  @inline export const EXCHANGE_MAPI: i32 = 16;
  @inline export const MGMT: i32 = 17;
  @inline export const OBJECT_EXPORTER: i32 = 18;
  @inline export const ACTIVATION: i32 = 19;
  @inline export const REMOTE_SCM_ACTIVATOR: i32 = 20;
  @inline export const REM_UNKNOWN2: i32 = 21;
  @inline export const EVENTLOG: i32 = 22;
  @inline export const INIT_SHUTDOWN: i32 = 23;
  @inline export const EVENT_SERVICE: i32 = 24;
  @inline export const WBEM_LEVEL1_LOGIN: i32 = 25;
  @inline export const WBEM_SERVICES: i32 = 26;
}

// Returns the interface index of a UUID, or UNKNOWN_INTERFACE. The UUID comes
// as its integer fields time_low, time_mid and time_hi_and_version, and
// `restPtr` points to the 8 bytes of clock_seq and node as on the wire.
export function findInterface(d1: u32, d2: u32, d3: u32, restPtr: usize): i32 {
  const rest = load<u64>(restPtr);
  if (d1 == 0x1ff70682 && d2 == 0x0a51 && d3 == 0x30e8 && rest == 0x8be9cee80b746d07) return Interface.ATSVC;
  if (d1 == 0x378e52b0 && d2 == 0xc0a9 && d3 == 0x11cf && rest == 0x0fe45100aa002d82) return Interface.SASEC;
  if (d1 == 0x86d35949 && d2 == 0x83c9 && d3 == 0x4044 && rest == 0x0cfd313236db24b4) return Interface.TASK_SCHEDULER;
  if (d1 == 0x367abb81 && d2 == 0x9844 && d3 == 0x35f1 && rest == 0x03100038f09832ad) return Interface.SVCCTL;
  if (d1 == 0x12345778 && d2 == 0x1234 && d3 == 0xabcd && rest == 0xac896745230100ef) return Interface.SAMR;
  if (d1 == 0x12345778 && d2 == 0x1234 && d3 == 0xabcd && rest == 0xab896745230100ef) return Interface.LSARPC;
  if (d1 == 0x4b324fc8 && d2 == 0x1670 && d3 == 0x01d3 && rest == 0x88e16ebf475a7812) return Interface.SRVSVC;
  if (d1 == 0x338cd001 && d2 == 0x2244 && d3 == 0x31f1 && rest == 0x031000380090aaaa) return Interface.WINREG;
  if (d1 == 0xe3514235 && d2 == 0x4b06 && d3 == 0x11d1 && rest == 0xd2dcc24fc00004ab) return Interface.DRSUAPI;
  if (d1 == 0xe1af8308 && d2 == 0x5d1f && d3 == 0x11c9 && rest == 0xfaa0142b0008a491) return Interface.EPMAPPER;
  if (d1 == 0x12345678 && d2 == 0x1234 && d3 == 0xabcd && rest == 0xfbcf6745230100ef) return Interface.NETLOGON;
  if (d1 == 0x3919286a && d2 == 0xb10c && d3 == 0x11d0 && rest == 0xf52ed94fc000a89b) return Interface.DSSETUP;
  if (d1 == 0x6bffd098 && d2 == 0xa112 && d3 == 0x3610 && rest == 0x5a347ef8c3463398) return Interface.WKSSVC;
  if (d1 == 0x12345678 && d2 == 0x1234 && d3 == 0xabcd && rest == 0xab896745230100ef) return Interface.SPOOLSS;
  if (d1 == 0x76f03f96 && d2 == 0xcdfd && d3 == 0x44fc && rest == 0x0912000a95642ca2) return Interface.REMOTE_WINSPOOL;
  if (d1 == 0xf5cc5a18 && d2 == 0x4264 && d3 == 0x101a && rest == 0x26842f2b0008598c) return Interface.NSPI;
  if (d1 == 0xa4f1db00 && d2 == 0xca47 && d3 == 0x1067 && rest == 0xda620601dd001fb3) return Interface.EXCHANGE_MAPI;
  if (d1 == 0xafa8bd80 && d2 == 0x7d8a && d3 == 0x11c9 && rest == 0x8929102b0008f4be) return Interface.MGMT;
  if (d1 == 0x99fcfec4 && d2 == 0x5260 && d3 == 0x101b && rest == 0x7a342100aa00cbbb) return Interface.OBJECT_EXPORTER;
  if (d1 == 0x4d9f4ab8 && d2 == 0x7d1c && d3 == 0x11cf && rest == 0x577c6eaf20001e86) return Interface.ACTIVATION;
  if (d1 == 0x000001a0 && d2 == 0x0000 && d3 == 0x0000 && rest == 0x46000000000000c0) return Interface.REMOTE_SCM_ACTIVATOR;
  if (d1 == 0x00000143 && d2 == 0x0000 && d3 == 0x0000 && rest == 0x46000000000000c0) return Interface.REM_UNKNOWN2;
  if (d1 == 0x82273fdc && d2 == 0xe32a && d3 == 0x18c3 && rest == 0xea23dc297982783f) return Interface.EVENTLOG;
  if (d1 == 0x894de0c0 && d2 == 0x0d55 && d3 == 0x11d3 && rest == 0xa121a34fc00022a3) return Interface.INIT_SHUTDOWN;
  if (d1 == 0xf6beaff7 && d2 == 0x1e19 && d3 == 0x4fbb && rest == 0x7c3318209eb88f9f) return Interface.EVENT_SERVICE;
  if (d1 == 0xf309ad18 && d2 == 0xd86a && d3 == 0x11d0 && rest == 0x2088b64fc00075a0) return Interface.WBEM_LEVEL1_LOGIN;
  if (d1 == 0x9556dc99 && d2 == 0x828c && d3 == 0x11cf && rest == 0xc7403200aa007ea3) return Interface.WBEM_SERVICES;
  return UNKNOWN_INTERFACE;
}

// Zeek's endpoint name of an interface index.
export function interfaceName(index: i32): string {
  switch (index) {
    case Interface.ATSVC: return "atsvc";
    case Interface.SASEC: return "sasec";
    case Interface.TASK_SCHEDULER: return "ITaskSchedulerService";
    case Interface.SVCCTL: return "svcctl";
    case Interface.SAMR: return "samr";
    case Interface.LSARPC: return "lsarpc";
    case Interface.SRVSVC: return "srvsvc";
    case Interface.WINREG: return "winreg";
    case Interface.DRSUAPI: return "drsuapi";
    case Interface.EPMAPPER: return "epmapper";
    case Interface.NETLOGON: return "netlogon";
    case Interface.DSSETUP: return "dssetup";
    case Interface.WKSSVC: return "wkssvc";
    case Interface.SPOOLSS: return "spoolss";
    case Interface.REMOTE_WINSPOOL: return "IRemoteWinspool";
    case Interface.NSPI: return "nspi";
    case Interface.EXCHANGE_MAPI: return "exchange_mapi";
    case Interface.MGMT: return "mgmt";
    case Interface.OBJECT_EXPORTER: return "IObjectExporter";
    case Interface.ACTIVATION: return "IActivation";
    case Interface.REMOTE_SCM_ACTIVATOR: return "IRemoteSCMActivator";
    case Interface.REM_UNKNOWN2: return "IRemUnknown2";
    case Interface.EVENTLOG: return "eventlog";
    case Interface.INIT_SHUTDOWN: return "InitShutdown";
    case Interface.EVENT_SERVICE: return "IEventService";
    case Interface.WBEM_LEVEL1_LOGIN: return "IWbemLevel1Login";
    case Interface.WBEM_SERVICES: return "IWbemServices";
  }
  return "";
}

// Zeek's operation name, or "" when the opnum is not named for this interface.
export function operationName(index: i32, opnum: u32): string {
  switch (index) {
    case Interface.ATSVC: return atsvcOperation(opnum);
    case Interface.SASEC: return sasecOperation(opnum);
    case Interface.TASK_SCHEDULER: return taskSchedulerOperation(opnum);
    case Interface.SVCCTL: return svcctlOperation(opnum);
    case Interface.SAMR: return samrOperation(opnum);
    case Interface.LSARPC: return lsarpcOperation(opnum);
    case Interface.SRVSVC: return srvsvcOperation(opnum);
    case Interface.WINREG: return winregOperation(opnum);
    case Interface.DRSUAPI: return drsuapiOperation(opnum);
    case Interface.EPMAPPER: return epmapperOperation(opnum);
    case Interface.NETLOGON: return netlogonOperation(opnum);
    case Interface.DSSETUP: return dssetupOperation(opnum);
    case Interface.WKSSVC: return wkssvcOperation(opnum);
    case Interface.SPOOLSS: return spoolssOperation(opnum);
    case Interface.REMOTE_WINSPOOL: return remoteWinspoolOperation(opnum);
    case Interface.NSPI: return nspiOperation(opnum);
    case Interface.EXCHANGE_MAPI: return exchangeMapiOperation(opnum);
    case Interface.MGMT: return mgmtOperation(opnum);
    case Interface.OBJECT_EXPORTER: return objectExporterOperation(opnum);
    case Interface.ACTIVATION: return activationOperation(opnum);
    case Interface.REMOTE_SCM_ACTIVATOR: return remoteScmActivatorOperation(opnum);
    case Interface.REM_UNKNOWN2: return remUnknown2Operation(opnum);
    case Interface.EVENTLOG: return eventlogOperation(opnum);
    case Interface.INIT_SHUTDOWN: return initShutdownOperation(opnum);
    case Interface.EVENT_SERVICE: return eventServiceOperation(opnum);
    case Interface.WBEM_LEVEL1_LOGIN: return wbemLevel1LoginOperation(opnum);
    case Interface.WBEM_SERVICES: return wbemServicesOperation(opnum);
  }
  return "";
}

function atsvcOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "NetrJobAdd";
    case 1: return "NetrJobDel";
    case 2: return "NetrJobEnum";
    case 3: return "NetrJobGetInfo";
  }
  return "";
}

function sasecOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "SASetAccountInformation";
    case 1: return "SASetNSAccountInformation";
    case 2: return "SAGetNSAccountInformation";
    case 3: return "SAGetAccountInformation";
  }
  return "";
}

function taskSchedulerOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "SchRpcHighestVersion";
    case 1: return "SchRpcRegisterTask";
    case 2: return "SchRpcRetrieveTask";
    case 3: return "SchRpcCreateFolder";
    case 4: return "SchRpcSetSecurity";
    case 5: return "SchRpcGetSecurity";
    case 6: return "SchRpcEnumFolder";
    case 7: return "SchRpcEnumTasks";
    case 8: return "SchRpcEnumInstances";
    case 9: return "SchRpcGetInstanceInfo";
    case 10: return "SchRpcStopInstance";
    case 11: return "SchRpcStop";
    case 12: return "SchRpcRun";
    case 13: return "SchRpcDelete";
    case 14: return "SchRpcRename";
    case 15: return "SchRpcScheduledRuntimes";
    case 16: return "SchRpcGetLastRunInfo";
    case 17: return "SchRpcGetTaskInfo";
    case 18: return "SchRpcGetNumberOfMissedRuns";
    case 19: return "SchRpcEnableTask";
  }
  return "";
}

function svcctlOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "CloseServiceHandle";
    case 1: return "ControlService";
    case 2: return "DeleteService";
    case 3: return "LockServiceDatabase";
    case 4: return "QueryServiceObjectSecurity";
    case 5: return "SetServiceObjectSecurity";
    case 6: return "QueryServiceStatus";
    case 7: return "SetServiceStatus";
    case 8: return "UnlockServiceDatabase";
    case 9: return "NotifyBootConfigStatus";
    case 10: return "ScSetServiceBitsW";
    case 11: return "ChangeServiceConfigW";
    case 12: return "CreateServiceW";
    case 13: return "EnumDependentServicesW";
    case 14: return "EnumServicesStatusW";
    case 15: return "OpenSCManagerW";
    case 16: return "OpenServiceW";
    case 17: return "QueryServiceConfigW";
    case 18: return "QueryServiceLockStatusW";
    case 19: return "StartServiceW";
    case 20: return "GetServiceDisplayNameW";
    case 21: return "GetServiceKeyNameW";
    case 22: return "ScSetServiceBitsA";
    case 23: return "ChangeServiceConfigA";
    case 24: return "CreateServiceA";
    case 25: return "EnumDependentServicesA";
    case 26: return "EnumServicesStatusA";
    case 27: return "OpenSCManagerA";
    case 28: return "OpenServiceA";
    case 29: return "QueryServiceConfigA";
    case 30: return "QueryServiceLockStatusA";
    case 31: return "StartServiceA";
    case 32: return "GetServiceDisplayNameA";
    case 33: return "GetServiceKeyNameA";
    case 34: return "ScGetCurrentGroupStateW";
    case 35: return "EnumServiceGroupW";
    case 36: return "ChangeServiceConfig2A";
    case 37: return "ChangeServiceConfig2W";
    case 38: return "QueryServiceConfig2A";
    case 39: return "QueryServiceConfig2W";
    case 40: return "QueryServiceStatusEx";
    case 41: return "EnumServicesStatusExA";
    case 42: return "EnumServicesStatusExW";
    case 43: return "ScSendTSMessage";
    case 44: return "CreateServiceWOW64A";
    case 45: return "CreateServiceWOW64W";
    case 46: return "ScQueryServiceTagInfo";
    case 47: return "NotifyServiceStatusChange";
    case 48: return "GetNotifyResult";
    case 49: return "CloseNotifyHandle";
    case 50: return "ControlServiceExA";
    case 51: return "ControlServiceExW";
    case 52: return "ScSendPnPMessage";
    case 53: return "ScValidatePnPService";
    case 54: return "ScOpenServiceStatusHandle";
  }
  return "";
}

function samrOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "SamrConnect";
    case 1: return "SamrCloseHandle";
    case 2: return "SamrSetSecurityObject";
    case 3: return "SamrQuerySecurityObject";
    case 4: return "SamrShutdownSamServer";
    case 5: return "SamrLookupDomainInSamServer";
    case 6: return "SamrEnumerateDomainsInSamServer";
    case 7: return "SamrOpenDomain";
    case 8: return "SamrQueryInformationDomain";
    case 9: return "SamrSetInformationDomain";
    case 10: return "SamrCreateGroupInDomain";
    case 11: return "SamrEnumerateGroupsInDomain";
    case 12: return "SamrCreateUserInDomain";
    case 13: return "SamrEnumerateUsersInDomain";
    case 14: return "SamrCreateAliasInDomain";
    case 15: return "SamrEnumerateAliasesInDomain";
    case 16: return "SamrGetAliasMembership";
    case 17: return "SamrLookupNamesInDomain";
    case 18: return "SamrLookupIdsInDomain";
    case 19: return "SamrOpenGroup";
    case 20: return "SamrQueryInformationGroup";
    case 21: return "SamrSetInformationGroup";
    case 22: return "SamrAddMemberToGroup";
    case 23: return "SamrDeleteGroup";
    case 24: return "SamrRemoveMemberFromGroup";
    case 25: return "SamrGetMembersInGroup";
    case 26: return "SamrSetMemberAttributesOfGroup";
    case 27: return "SamrOpenAlias";
    case 28: return "SamrQueryInformationAlias";
    case 29: return "SamrSetInformationAlias";
    case 30: return "SamrDeleteAlias";
    case 31: return "SamrAddMemberToAlias";
    case 32: return "SamrRemoveMemberFromAlias";
    case 33: return "SamrGetMembersInAlias";
    case 34: return "SamrOpenUser";
    case 35: return "SamrDeleteUser";
    case 36: return "SamrQueryInformationUser";
    case 37: return "SamrSetInformationUser";
    case 38: return "SamrChangePasswordUser";
    case 39: return "SamrGetGroupsForUser";
    case 40: return "SamrQueryDisplayInformation";
    case 41: return "SamrGetDisplayEnumerationIndex";
    case 42: return "SamrTestPrivateFunctionsDomain";
    case 43: return "SamrTestPrivateFunctionsUser";
    case 44: return "SamrGetUserDomainPasswordInformation";
    case 45: return "SamrRemoveMemberFromForeignDomain";
    case 46: return "SamrQueryInformationDomain2";
    case 47: return "SamrQueryInformationUser2";
    case 48: return "SamrQueryDisplayInformation2";
    case 49: return "SamrGetDisplayEnumerationIndex2";
    case 50: return "SamrCreateUser2InDomain";
    case 51: return "SamrQueryDisplayInformation3";
    case 52: return "SamrAddMultipleMembersToAlias";
    case 53: return "SamrRemoveMultipleMembersFromAlias";
    case 54: return "SamrOemChangePasswordUser2";
    case 55: return "SamrUnicodeChangePasswordUser2";
    case 56: return "SamrGetDomainPasswordInformation";
    case 57: return "SamrConnect2";
    case 58: return "SamrSetInformationUser2";
    case 59: return "SamrSetBootKeyInformation";
    case 60: return "SamrGetBootKeyInformation";
    case 61: return "SamrConnect3";
    case 62: return "SamrConnect4";
    case 63: return "SamrUnicodeChangePasswordUser3";
    case 64: return "SamrConnect5";
    case 65: return "SamrRidToSid";
    case 66: return "SamrSetDSRMPassword";
    case 67: return "SamrValidatePassword";
    case 68: return "SamrQueryLocalizableAccountsInDomain";
    case 69: return "SamrPerformGenericOperation";
  }
  return "";
}

function lsarpcOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "LsarClose";
    case 1: return "LsarDelete";
    case 2: return "LsarEnumeratePrivileges";
    case 3: return "LsarQuerySecurityObject";
    case 4: return "LsarSetSecurityObject";
    case 5: return "LsarChangePassword";
    case 6: return "LsarOpenPolicy";
    case 7: return "LsarQueryInformationPolicy";
    case 8: return "LsarSetInformationPolicy";
    case 9: return "LsarClearAuditLog";
    case 10: return "LsarCreateAccount";
    case 11: return "LsarEnumerateAccounts";
    case 12: return "LsarCreateTrustedDomain";
    case 13: return "LsarEnumerateTrustedDomains";
    case 14: return "LsarLookupNames";
    case 15: return "LsarLookupSids";
    case 16: return "LsarCreateSecret";
    case 17: return "LsarOpenAccount";
    case 18: return "LsarEnumeratePrivilegesAccount";
    case 19: return "LsarAddPrivilegesToAccount";
    case 20: return "LsarRemovePrivilegesFromAccount";
    case 21: return "LsarGetQuotasForAccount";
    case 22: return "LsarSetQuotasForAccount";
    case 23: return "LsarGetSystemAccessAccount";
    case 24: return "LsarSetSystemAccessAccount";
    case 25: return "LsarOpenTrustedDomain";
    case 26: return "LsarQueryInfoTrustedDomain";
    case 27: return "LsarSetInformationTrustedDomain";
    case 28: return "LsarOpenSecret";
    case 29: return "LsarSetSecret";
    case 30: return "LsarQuerySecret";
    case 31: return "LsarLookupPrivilegeValue";
    case 32: return "LsarLookupPrivilegeName";
    case 33: return "LsarLookupPrivilegeDisplayName";
    case 34: return "LsarDeleteObject";
    case 35: return "LsarEnumerateAccountsWithUserRight";
    case 36: return "LsarEnumerateAccountRights";
    case 37: return "LsarAddAccountRights";
    case 38: return "LsarRemoveAccountRights";
    case 39: return "LsarQueryTrustedDomainInfo";
    case 40: return "LsarSetTrustedDomainInfo";
    case 41: return "LsarDeleteTrustedDomain";
    case 42: return "LsarStorePrivateData";
    case 43: return "LsarRetrievePrivateData";
    case 44: return "LsarOpenPolicy2";
    case 45: return "LsarGetUserName";
    case 46: return "LsarQueryInformationPolicy2";
    case 47: return "LsarSetInformationPolicy2";
    case 48: return "LsarQueryTrustedDomainInfoByName";
    case 49: return "LsarSetTrustedDomainInfoByName";
    case 50: return "LsarEnumerateTrustedDomainsEx";
    case 51: return "LsarCreateTrustedDomainEx";
    case 52: return "LsarCloseTrustedDomainEx";
    case 53: return "LsarQueryDomainInformationPolicy";
    case 54: return "LsarSetDomainInformationPolicy";
    case 55: return "LsarOpenTrustedDomainByName";
    case 56: return "LsarTestCall";
    case 57: return "LsarLookupSids2";
    case 58: return "LsarLookupNames2";
    case 59: return "LsarCreateTrustedDomainEx2";
    case 60: return "CredrWrite";
    case 61: return "CredrRead";
    case 62: return "CredrEnumerate";
    case 63: return "CredrWriteDomainCredentials";
    case 64: return "CredrReadDomainCredentials";
    case 65: return "CredrDelete";
    case 66: return "CredrGetTargetInfo";
    case 67: return "CredrProfileLoaded";
    case 68: return "LsarLookupNames3";
    case 69: return "CredrGetSessionTypes";
    case 70: return "LsarRegisterAuditEvent";
    case 71: return "LsarGenAuditEvent";
    case 72: return "LsarUnregisterAuditEvent";
    case 73: return "LsarQueryForestTrustInformation";
    case 74: return "LsarSetForestTrustInformation";
    case 75: return "CredrRename";
    case 76: return "LsarLookupSids3";
    case 77: return "LsarLookupNames4";
    case 78: return "LsarOpenPolicySce";
    case 79: return "LsarAdtRegisterSecurityEventSource";
    case 80: return "LsarAdtUnregisterSecurityEventSource";
    case 81: return "LsarAdtReportSecurityEvent";
    case 82: return "CredrFindBestCredential";
    case 83: return "LsarSetAuditPolicy";
    case 84: return "LsarQueryAuditPolicy";
    case 85: return "LsarEnumerateAuditPolicy";
    case 86: return "LsarEnumerateAuditCategories";
    case 87: return "LsarEnumerateAuditSubCategories";
    case 88: return "LsarLookupAuditCategoryName";
    case 89: return "LsarLookupAuditSubCategoryName";
    case 90: return "LsarSetAuditSecurity";
    case 91: return "LsarQueryAuditSecurity";
    case 92: return "CredReadByTokenHandle";
    case 93: return "CredrRestoreCredentials";
    case 94: return "CredrBackupCredentials";
  }
  return "";
}

function srvsvcOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "NetrCharDevEnum";
    case 1: return "NetrCharDevGetInfo";
    case 2: return "NetrCharDevControl";
    case 3: return "NetrCharDevQEnum";
    case 4: return "NetrCharDevQGetInfo";
    case 5: return "NetrCharDevQSetInfo";
    case 6: return "NetrCharDevQPurge";
    case 7: return "NetrCharDevQPurgeSelf";
    case 8: return "NetrConnectionEnum";
    case 9: return "NetrFileEnum";
    case 10: return "NetrFileGetInfo";
    case 11: return "NetrFileClose";
    case 12: return "NetrSessionEnum";
    case 13: return "NetrSessionDel";
    case 14: return "NetrShareAdd";
    case 15: return "NetrShareEnum";
    case 16: return "NetrShareGetInfo";
    case 17: return "NetrShareSetInfo";
    case 18: return "NetrShareDel";
    case 19: return "NetrShareDelSticky";
    case 20: return "NetrShareCheck";
    case 21: return "NetrServerGetInfo";
    case 22: return "NetrServerSetInfo";
    case 23: return "NetrServerDiskEnum";
    case 24: return "NetrServerStatisticsGet";
    case 25: return "NetrServerTransportAdd";
    case 26: return "NetrServerTransportEnum";
    case 27: return "NetrServerTransportDel";
    case 28: return "NetrRemoteTOD";
    case 29: return "NetrServerSetServiceBits";
    case 30: return "NetprPathType";
    case 31: return "NetprPathCanonicalize";
    case 32: return "NetprPathCompare";
    case 33: return "NetprNameValidate";
    case 34: return "NetprNameCanonicalize";
    case 35: return "NetprNameCompare";
    case 36: return "NetrShareEnumSticky";
    case 37: return "NetrShareDelStart";
    case 38: return "NetrShareDelCommit";
    case 39: return "NetrpGetFileSecurity";
    case 40: return "NetrpSetFileSecurity";
    case 41: return "NetrServerTransportAddEx";
    case 42: return "NetrServerSetServiceBitsEx";
    case 43: return "NetrDfsGetVersion";
    case 44: return "NetrDfsCreateLocalPartition";
    case 45: return "NetrDfsDeleteLocalPartition";
    case 46: return "NetrDfsSetLocalVolumeState";
    case 47: return "NetrDfsSetServerInfo";
    case 48: return "NetrDfsCreateExitPoint";
    case 49: return "NetrDfsDeleteExitPoint";
    case 50: return "NetrDfsModifyPrefix";
    case 51: return "NetrDfsFixLocalVolume";
    case 52: return "NetrDfsManagerReportSiteInfo";
    case 53: return "NetrServerTransportDelEx";
    case 55: return "NetrServerAliasEnum";
    case 56: return "NetrServerAliasDel";
    case 57: return "NetrShareDelEx";
  }
  return "";
}

function winregOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "OpenClassesRoot";
    case 1: return "OpenCurrentUser";
    case 2: return "OpenLocalMachine";
    case 3: return "OpenPerformanceData";
    case 4: return "OpenUsers";
    case 5: return "BaseRegCloseKey";
    case 6: return "BaseRegCreateKey";
    case 7: return "BaseRegDeleteKey";
    case 8: return "BaseRegDeleteValue";
    case 9: return "BaseRegEnumKey";
    case 10: return "BaseRegEnumValue";
    case 11: return "BaseRegFlushKey";
    case 12: return "BaseRegGetKeySecurity";
    case 13: return "BaseRegLoadKey";
    case 14: return "BaseRegNotifyChangeKeyValue";
    case 15: return "BaseRegOpenKey";
    case 16: return "BaseRegQueryInfoKey";
    case 17: return "BaseRegQueryValue";
    case 18: return "BaseRegReplaceKey";
    case 19: return "BaseRegRestoreKey";
    case 20: return "BaseRegSaveKey";
    case 21: return "BaseRegSetKeySecurity";
    case 22: return "BaseRegSetValue";
    case 23: return "BaseRegUnLoadKey";
    case 24: return "BaseInitiateSystemShutdown";
    case 25: return "BaseAbortSystemShutdown";
    case 26: return "BaseRegGetVersion";
    case 27: return "OpenCurrentConfig";
    case 28: return "OpenDynData";
    case 29: return "BaseRegQueryMultipleValues";
    case 30: return "BaseInitiateSystemShutdownEx";
    case 31: return "BaseRegSaveKeyEx";
    case 32: return "OpenPerformanceText";
    case 33: return "OpenPerformanceNlsText";
    case 34: return "BaseRegQueryMultipleValues2";
    case 35: return "BaseRegDeleteKeyEx";
  }
  return "";
}

function drsuapiOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "DRSBind";
    case 1: return "DRSUnbind";
    case 2: return "DRSReplicaSync";
    case 3: return "DRSGetNCChanges";
    case 4: return "DRSUpdateRefs";
    case 5: return "DRSReplicaAdd";
    case 6: return "DRSReplicaDel";
    case 7: return "DRSReplicaModify";
    case 8: return "DRSVerifyNames";
    case 9: return "DRSGetMemberships";
    case 10: return "DRSInterDomainMove";
    case 11: return "DRSGetNT4ChangeLog";
    case 12: return "DRSCrackNames";
    case 13: return "DRSWriteSPN";
    case 14: return "DRSRemoveDsServer";
    case 15: return "DRSRemoveDsDomain";
    case 16: return "DRSDomainControllerInfo";
    case 17: return "DRSAddEntry";
    case 18: return "DRSExecuteKCC";
    case 19: return "DRSGetReplInfo";
    case 20: return "DRSAddSidHistory";
    case 21: return "DRSGetMemberships2";
    case 22: return "DRSReplicaVerifyObjects";
    case 23: return "DRSGetObjectExistence";
    case 24: return "DRSQuerySitesByCost";
  }
  return "";
}

function epmapperOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "ept_insert";
    case 1: return "ept_delete";
    case 2: return "ept_lookup";
    case 3: return "ept_map";
    case 4: return "ept_lookup_handle_free";
    case 5: return "ept_inq_object";
    case 6: return "ept_mgmt_delete";
    case 7: return "ept_map_auth";
    case 8: return "ept_map_auth_async";
  }
  return "";
}

function netlogonOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "NetrLogonUasLogon";
    case 1: return "NetrLogonUasLogoff";
    case 2: return "NetrLogonSamLogon";
    case 3: return "NetrLogonSamLogoff";
    case 4: return "NetrServerReqChallenge";
    case 5: return "NetrServerAuthenticate";
    case 6: return "NetrServerPasswordSet";
    case 7: return "NetrDatabaseDeltas";
    case 8: return "NetrDatabaseSync";
    case 9: return "NetrAccountDeltas";
    case 10: return "NetrAccountSync";
    case 11: return "NetrGetDCName";
    case 12: return "NetrLogonControl";
    case 13: return "NetrGetAnyDCName";
    case 14: return "NetrLogonControl2";
    case 15: return "NetrServerAuthenticate2";
    case 16: return "NetrDatabaseSync2";
    case 17: return "NetrDatabaseRedo";
    case 18: return "NetrLogonControl2Ex";
    case 19: return "NetrEnumerateTrustedDomains";
    case 20: return "DsrGetDcName";
    case 21: return "NetrLogonGetCapabilities";
    case 22: return "NetrLogonSetServiceBits";
    case 23: return "NetrLogonGetTrustRid";
    case 24: return "NetrLogonComputeServerDigest";
    case 25: return "NetrLogonComputeClientDigest";
    case 26: return "NetrServerAuthenticate3";
    case 27: return "DsrGetDcNameEx";
    case 28: return "DsrGetSiteName";
    case 29: return "NetrLogonGetDomainInfo";
    case 30: return "NetrServerPasswordSet2";
    case 31: return "NetrServerPasswordGet";
    case 32: return "NetrLogonSendToSam";
    case 33: return "DsrAddressToSiteNamesW";
    case 34: return "DsrGetDcNameEx2";
    case 35: return "NetrLogonGetTimeServiceParentDomain";
    case 36: return "NetrEnumerateTrustedDomainsEx";
    case 37: return "DsrAddressToSiteNamesExW";
    case 38: return "DsrGetDcSiteCoverageW";
    case 39: return "NetrLogonSamLogonEx";
    case 40: return "DsrEnumerateDomainTrusts";
    case 41: return "DsrDeregisterDnsHostRecords";
    case 42: return "NetrServerTrustPasswordsGet";
    case 43: return "DsrGetForestTrustInformation";
    case 44: return "NetrGetForestTrustInformation";
    case 45: return "NetrLogonSamLogonWithFlags";
    case 46: return "NetrServerGetTrustInfo";
    case 48: return "DsrUpdateReadOnlyServerDnsRecords";
    case 49: return "NetrChainSetClientAttributes";
  }
  return "";
}

function dssetupOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "DsRolerGetPrimaryDomainInformation";
    case 1: return "DsRolerDnsNameToFlatName";
    case 2: return "DsRolerDcAsDc";
    case 3: return "DsRolerDcAsReplica";
    case 4: return "DsRolerDemoteDc";
    case 5: return "DsRolerGetDcOperationProgress";
    case 6: return "DsRolerGetDcOperationResults";
    case 7: return "DsRolerCancel";
    case 8: return "DsRolerServerSaveStateForUpgrade";
    case 9: return "DsRolerUpgradeDownlevelServer";
    case 10: return "DsRolerAbortDownlevelServerUpgrade";
  }
  return "";
}

function wkssvcOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "NetrWkstaGetInfo";
    case 1: return "NetrWkstaSetInfo";
    case 2: return "NetrWkstaUserEnum";
    case 3: return "NetrWkstaUserGetInfo";
    case 4: return "NetrWkstaUserSetInfo";
    case 5: return "NetrWkstaTransportEnum";
    case 6: return "NetrWkstaTransportAdd";
    case 7: return "NetrWkstaTransportDel";
    case 8: return "NetrUseAdd";
    case 9: return "NetrUseGetInfo";
    case 10: return "NetrUseDel";
    case 11: return "NetrUseEnum";
    case 12: return "NetrMessageBufferSend";
    case 13: return "NetrWorkstationStatisticsGet";
    case 14: return "NetrLogonDomainNameAdd";
    case 15: return "NetrLogonDomainNameDel";
    case 16: return "NetrJoinDomain";
    case 17: return "NetrUnjoinDomain";
    case 18: return "NetrValidateName";
    case 19: return "NetrRenameMachineInDomain";
    case 20: return "NetrGetJoinInformation";
    case 21: return "NetrGetJoinableOUs";
    case 22: return "NetrJoinDomain2";
    case 23: return "NetrUnjoinDomain2";
    case 24: return "NetrRenameMachineInDomain2";
    case 25: return "NetrValidateName2";
    case 26: return "NetrGetJoinableOUs2";
    case 27: return "NetrAddAlternateComputerName";
    case 28: return "NetrRemoveAlternateComputerName";
    case 29: return "NetrSetPrimaryComputerName";
    case 30: return "NetrEnumerateComputerNames";
    case 31: return "NetrWorkstationResetDfsCache";
  }
  return "";
}

function spoolssOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "RpcEnumPrinters";
    case 1: return "RpcOpenPrinter";
    case 2: return "RpcSetJob";
    case 3: return "RpcGetJob";
    case 4: return "RpcEnumJobs";
    case 5: return "RpcAddPrinter";
    case 6: return "RpcDeletePrinter";
    case 7: return "RpcSetPrinter";
    case 8: return "RpcGetPrinter";
    case 9: return "RpcAddPrinterDriver";
    case 10: return "RpcEnumPrinterDrivers";
    case 11: return "RpcGetPrinterDriver";
    case 12: return "RpcGetPrinterDriverDirectory";
    case 13: return "RpcDeletePrinterDriver";
    case 14: return "RpcAddPrintProcessor";
    case 15: return "RpcEnumPrintProcessors";
    case 16: return "RpcGetPrintProcessorDirectory";
    case 17: return "RpcStartDocPrinter";
    case 18: return "RpcStartPagePrinter";
    case 19: return "RpcWritePrinter";
    case 20: return "RpcEndPagePrinter";
    case 21: return "RpcAbortPrinter";
    case 22: return "RpcReadPrinter";
    case 23: return "RpcEndDocPrinter";
    case 24: return "RpcAddJob";
    case 25: return "RpcScheduleJob";
    case 26: return "RpcGetPrinterData";
    case 27: return "RpcSetPrinterData";
    case 28: return "RpcWaitForPrinterChange";
    case 29: return "RpcClosePrinter";
    case 30: return "RpcAddForm";
    case 31: return "RpcDeleteForm";
    case 32: return "RpcGetForm";
    case 33: return "RpcSetForm";
    case 34: return "RpcEnumForms";
    case 35: return "RpcEnumPorts";
    case 36: return "RpcEnumMonitors";
    case 37: return "RpcAddPort";
    case 38: return "RpcConfigurePort";
    case 39: return "RpcDeletePort";
    case 40: return "RpcCreatePrinterIC";
    case 41: return "RpcPlayGdiScriptOnPrinterIC";
    case 42: return "RpcDeletePrinterIC";
    case 43: return "RpcAddPrinterConnection";
    case 44: return "RpcDeletePrinterConnection";
    case 45: return "RpcPrinterMessageBox";
    case 46: return "RpcAddMonitor";
    case 47: return "RpcDeleteMonitor";
    case 48: return "RpcDeletePrintProcessor";
    case 49: return "RpcAddPrintProvidor";
    case 50: return "RpcDeletePrintProvidor";
    case 51: return "RpcEnumPrintProcessorDatatypes";
    case 52: return "RpcResetPrinter";
    case 53: return "RpcGetPrinterDriver2";
    case 54: return "RpcClientFindFirstPrinterChangeNotification";
    case 55: return "RpcFindNextPrinterChangeNotification";
    case 56: return "RpcFindClosePrinterChangeNotification";
    case 57: return "RpcRouterFindFirstPrinterChangeNotificationOld";
    case 58: return "RpcReplyOpenPrinter";
    case 59: return "RpcRouterReplyPrinter";
    case 60: return "RpcReplyClosePrinter";
    case 61: return "RpcAddPortEx";
    case 62: return "RpcRemoteFindFirstPrinterChangeNotification";
    case 63: return "RpcSpoolerInit";
    case 64: return "RpcResetPrinterEx";
    case 65: return "RpcRemoteFindFirstPrinterChangeNotificationEx";
    case 66: return "RpcRouterReplyPrinterEx";
    case 67: return "RpcRouterRefreshPrinterChangeNotification";
    case 68: return "RpcSetAllocFailCount";
    case 69: return "RpcSplOpenPrinter";
    case 70: return "RpcAddPrinterEx";
    case 71: return "RpcSetPort";
    case 72: return "RpcEnumPrinterData";
    case 73: return "RpcDeletePrinterData";
    case 74: return "RpcClusterSplOpen";
    case 75: return "RpcClusterSplClose";
    case 76: return "RpcClusterSplIsAlive";
    case 77: return "RpcSetPrinterDataEx";
    case 78: return "RpcGetPrinterDataEx";
    case 79: return "RpcEnumPrinterDataEx";
    case 80: return "RpcEnumPrinterKey";
    case 81: return "RpcDeletePrinterDataEx";
    case 82: return "RpcDeletePrinterKey";
    case 83: return "RpcSeekPrinter";
    case 84: return "RpcDeletePrinterDriverEx";
    case 85: return "RpcAddPerMachineConnection";
    case 86: return "RpcDeletePerMachineConnection";
    case 87: return "RpcEnumPerMachineConnections";
    case 88: return "RpcXcvData";
    case 89: return "RpcAddPrinterDriverEx";
    case 90: return "RpcSplOpenPrinter";
    case 91: return "RpcGetSpoolFileInfo";
    case 92: return "RpcCommitSpoolData";
    case 93: return "RpcCloseSpoolFileHandle";
    case 94: return "RpcFlushPrinter";
    case 95: return "RpcSendRecvBidiData";
    case 96: return "RpcAddDriverCatalog";
    case 97: return "RpcAddPrinterConnection2";
    case 98: return "RpcDeletePrinterConnection2";
    case 99: return "RpcInstallPrinterDriverFromPackage";
    case 100: return "RpcUploadPrinterDriverPackage";
    case 101: return "RpcGetCorePrinterDrivers";
    case 102: return "RpcCorePrinterDriverInstalled";
    case 103: return "RpcGetPrinterDriverPackagePath";
    case 104: return "RpcReportJobProcessingProgress";
  }
  return "";
}

function remoteWinspoolOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "RpcAsyncOpenPrinter";
    case 1: return "RpcAsyncAddPrinter";
    case 2: return "RpcAsyncSetJob";
    case 3: return "RpcAsyncGetJob";
    case 4: return "RpcAsyncEnumJobs";
    case 5: return "RpcAsyncAddJob";
    case 6: return "RpcAsyncScheduleJob";
    case 7: return "RpcAsyncDeletePrinter";
    case 8: return "RpcAsyncSetPrinter";
    case 9: return "RpcAsyncGetPrinter";
    case 10: return "RpcAsyncStartDocPrinter";
    case 11: return "RpcAsyncStartPagePrinter";
    case 12: return "RpcAsyncWritePrinter";
    case 13: return "RpcAsyncEndPagePrinter";
    case 14: return "RpcAsyncEndDocPrinter";
    case 15: return "RpcAsyncAbortPrinter";
    case 16: return "RpcAsyncGetPrinterData";
    case 17: return "RpcAsyncGetPrinterDataEx";
    case 18: return "RpcAsyncSetPrinterData";
    case 19: return "RpcAsyncSetPrinterDataEx";
    case 20: return "RpcAsyncClosePrinter";
    case 21: return "RpcAsyncAddForm";
    case 22: return "RpcAsyncDeleteForm";
    case 23: return "RpcAsyncGetForm";
    case 24: return "RpcAsyncSetForm";
    case 25: return "RpcAsyncEnumForms";
    case 26: return "RpcAsyncGetPrinterDriver";
    case 27: return "RpcAsyncEnumPrinterData";
    case 28: return "RpcAsyncEnumPrinterDataEx";
    case 29: return "RpcAsyncEnumPrinterKey";
    case 30: return "RpcAsyncDeletePrinterData";
    case 31: return "RpcAsyncDeletePrinterDataEx";
    case 32: return "RpcAsyncDeletePrinterKey";
    case 33: return "RpcAsyncXcvData";
    case 34: return "RpcAsyncSendRecvBidiData";
    case 35: return "RpcAsyncCreatePrinterIC";
    case 36: return "RpcAsyncPlayGdiScriptOnPrinterIC";
    case 37: return "RpcAsyncDeletePrinterIC";
    case 38: return "RpcAsyncEnumPrinters";
    case 39: return "RpcAsyncAddPrinterDriver";
    case 40: return "RpcAsyncEnumPrinterDrivers";
    case 41: return "RpcAsyncGetPrinterDriverDirectory";
    case 42: return "RpcAsyncDeletePrinterDriver";
    case 43: return "RpcAsyncDeletePrinterDriverEx";
    case 44: return "RpcAsyncAddPrintProcessor";
    case 45: return "RpcAsyncEnumPrintProcessors";
    case 46: return "RpcAsyncGetPrintProcessorDirectory";
    case 47: return "RpcAsyncEnumPorts";
    case 48: return "RpcAsyncEnumMonitors";
    case 49: return "RpcAsyncAddPort";
    case 50: return "RpcAsyncSetPort";
    case 51: return "RpcAsyncAddMonitor";
    case 52: return "RpcAsyncDeleteMonitor";
    case 53: return "RpcAsyncDeletePrintProcessor";
    case 54: return "RpcAsyncEnumPrintProcessorDatatypes";
    case 55: return "RpcAsyncAddPerMachineConnection";
    case 56: return "RpcAsyncDeletePerMachineConnection";
    case 57: return "RpcAsyncEnumPerMachineConnections";
    case 58: return "RpcSyncRegisterForRemoteNotifications";
    case 59: return "RpcSyncUnRegisterForRemoteNotifications";
    case 60: return "RpcSyncRefreshRemoteNotifications";
    case 61: return "RpcAsyncGetRemoteNotifications";
    case 62: return "RpcAsyncInstallPrinterDriverFromPackage";
    case 63: return "RpcAsyncUploadPrinterDriverPackage";
    case 64: return "RpcAsyncGetCorePrinterDrivers";
    case 65: return "RpcAsyncCorePrinterDriverInstalled";
    case 66: return "RpcAsyncGetPrinterDriverPackagePath";
    case 67: return "RpcAsyncDeletePrinterDriverPackage";
    case 68: return "RpcAsyncReadPrinter";
    case 69: return "RpcAsyncResetPrinter";
    case 70: return "RpcAsyncGetJobNamedPropertyValue";
    case 71: return "RpcAsyncSetJobNamedProperty";
    case 72: return "RpcAsyncDeleteJobNamedProperty";
    case 73: return "RpcAsyncEnumJobNamedProperties";
    case 74: return "RpcAsyncLogJobInfoForBranchOffice";
  }
  return "";
}

function nspiOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "NspiBind";
    case 1: return "NspiUnbind";
    case 2: return "NspiUpdateStat";
    case 3: return "NspiQueryRows";
    case 4: return "NspiSeekEntries";
    case 5: return "NspiGetMatches";
    case 6: return "NspiResortRestriction";
    case 7: return "NspiDNToEph";
    case 8: return "NspiGetPropList";
    case 9: return "NspiGetProps";
  }
  return "";
}

function exchangeMapiOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "EcDoConnect";
    case 1: return "EcDoDisconnect";
    case 2: return "EcDoRpc";
    case 3: return "EcGetMoreRpc";
    case 4: return "EcRRegisterPushNotification";
    case 5: return "EcRUnregisterPushNotification";
    case 6: return "EcDummyRpc";
    case 7: return "EcRGetDCName";
    case 8: return "EcRNetGetDCName";
    case 9: return "EcDoRpcExt";
    case 10: return "EcDoConnectEx";
    case 11: return "EcDoRpcExt2";
    case 12: return "EcUnknown0xC";
    case 13: return "EcUnknown0xD";
    case 14: return "EcDoAsyncConnectEx";
  }
  return "";
}

function mgmtOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "inq_if_ids";
    case 1: return "inq_stats";
    case 2: return "is_server_listening";
    case 3: return "stop_server_listening";
    case 4: return "inq_princ_name";
  }
  return "";
}

function objectExporterOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "ResolveOxid";
    case 1: return "SimplePing";
    case 2: return "ComplexPing";
    case 3: return "ServerAlive";
    case 4: return "ResolveOxid2";
    case 5: return "ServerAlive2";
  }
  return "";
}

function activationOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "RemoteActivation";
  }
  return "";
}

function remoteScmActivatorOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "QueryInterfaceIRemoteSCMActivator";
    case 1: return "AddRefIRemoteISCMActivator";
    case 2: return "ReleaseIRemoteISCMActivator";
    case 3: return "RemoteGetClassObject";
    case 4: return "RemoteCreateInstance";
  }
  return "";
}

function remUnknown2Operation(opnum: u32): string {
  switch (opnum) {
    case 0: return "QueryInterface";
    case 1: return "AddRef";
    case 2: return "Release";
    case 3: return "RemQueryInterface";
    case 4: return "RemAddRef";
    case 5: return "RemRelease";
    case 6: return "RemQueryInterface2";
  }
  return "";
}

function eventlogOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "ElfrClearELFW";
    case 1: return "ElfrBackupELFW";
    case 2: return "ElfrCloseEL";
    case 3: return "ElfrDeregisterEventSource";
    case 4: return "ElfrNumberOfRecords";
    case 5: return "ElfrOldestRecord";
    case 6: return "ElfrChangeNotify";
    case 7: return "ElfrOpenELW";
    case 8: return "ElfrRegisterEventSourceW";
    case 9: return "ElfrOpenBELW";
    case 10: return "ElfrReadELW";
    case 11: return "ElfrReportEventW";
    case 12: return "ElfrClearELFA";
    case 13: return "ElfrBackupELFA";
    case 14: return "ElfrOpenELA";
    case 15: return "ElfrRegisterEventSourceA";
    case 16: return "ElfrOpenBELA";
    case 17: return "ElfrReadELA";
    case 18: return "ElfrReportEventA";
  }
  return "";
}

function initShutdownOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "BaseInitiateShutdown";
    case 1: return "BaseAbortShutdown";
    case 2: return "BaseInitiateShutdownEx";
  }
  return "";
}

function eventServiceOperation(opnum: u32): string {
  switch (opnum) {
    case 0: return "EvtRpcRegisterRemoteSubscription";
    case 5: return "EvtRpcRegisterLogQuery";
    case 6: return "EvtRpcClearLog";
    case 7: return "EvtRpcExportLog";
  }
  return "";
}

// [MS-WMI] 3.1.4.1: opnums 0-2 are IUnknown's.
function wbemLevel1LoginOperation(opnum: u32): string {
  switch (opnum) {
    case 3: return "EstablishPosition";
    case 4: return "RequestChallenge";
    case 5: return "WBEMLogin";
    case 6: return "NTLMLogin";
  }
  return "";
}

// [MS-WMI] 3.1.4.3. ExecMethod on Win32_Process with method Create is how
// wmic and Impacket wmiexec start a process remotely.
function wbemServicesOperation(opnum: u32): string {
  switch (opnum) {
    case 3: return "OpenNamespace";
    case 4: return "CancelAsyncCall";
    case 5: return "QueryObjectSink";
    case 6: return "GetObject";
    case 7: return "GetObjectAsync";
    case 8: return "PutClass";
    case 9: return "PutClassAsync";
    case 10: return "DeleteClass";
    case 11: return "DeleteClassAsync";
    case 12: return "CreateClassEnum";
    case 13: return "CreateClassEnumAsync";
    case 14: return "PutInstance";
    case 15: return "PutInstanceAsync";
    case 16: return "DeleteInstance";
    case 17: return "DeleteInstanceAsync";
    case 18: return "CreateInstanceEnum";
    case 19: return "CreateInstanceEnumAsync";
    case 20: return "ExecQuery";
    case 21: return "ExecQueryAsync";
    case 22: return "ExecNotificationQuery";
    case 23: return "ExecNotificationQueryAsync";
    case 24: return "ExecMethod";
    case 25: return "ExecMethodAsync";
  }
  return "";
}
