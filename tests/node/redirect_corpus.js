// URIs that are and are not native redirects, shared by the redirect and content-script tests.

export const NATIVE = [
  'ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367?code=0.AXkA&state=x',
  'ms-appx-web://microsoft.aad.brokerplugin/12128f48-ec9e-42f0-b203-ea49fb6af367?code=0.AXkA',
  'MS-APPX-WEB://Microsoft.AAD.BrokerPlugin/x?code=1',
  'msauth.com.msauth.unsignedapp://auth?code=abc',
  'msauth://com.example.app/hash?code=abc',
  'MSAuth.com.contoso.app://auth?code=abc',
  'msal04b07795-8ddb-461a-bbee-02f9e1bf7b46://auth?code=abc',
  'msal04b077958ddb461abbee02f9e1bf7b46://auth?code=abc', // the host accepts it without dashes too
  'brk-04b07795-8ddb-461a-bbee-02f9e1bf7b46://login.microsoftonline.com?code=abc',
  'urn:ietf:wg:oauth:2.0:oob?code=abc',
  'URN:IETF:WG:OAUTH:2.0:OOB?code=abc',
  'urn:ietf:wg:oauth:2.0:oob:auto?code=abc',
  'urn:ietf:wg:oauth:2.0:oob',
  'https://login.microsoftonline.com/common/oauth2/nativeclient?code=abc',
  'https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/nativeclient?code=abc',
  'https://login.partner.microsoftonline.cn/oauth2/nativeclient#code=abc',
];

export const NOT_NATIVE = [
  'https://panel.test/tenant/edit',
  'https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=x',
  'https://login.microsoftonline.com/wrongplace',
  'https://evil.test/common/oauth2/nativeclient?code=abc',
  'https://login.microsoftonline.com.evil.test/common/oauth2/nativeclient?code=abc',
  'http://login.microsoftonline.com/common/oauth2/nativeclient?code=abc',
  'javascript:alert(1)//ms-appx-web://x',
  'data:text/html,ms-appx-web://x',
  'file:///etc/passwd',
  'mailto:someone@example.com',
  'ms-outlook://emails',
  'msauthx',
  'urn:ietf:wg:oauth:2.0:oobx?code=1',
  'xms-appx-web://x',
  'msal-not-a-guid://auth?code=1',
  'msal04b07795-8ddb461abbee02f9e1bf7b46://auth?code=1', // half-dashed: not a GUID
  'about:blank',
  '',
];
