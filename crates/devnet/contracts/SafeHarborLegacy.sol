// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// firebreak's test stand-ins for the SEAL Safe Harbor registries before v3,
// whose getAgreement(adopter) returns the agreement details themselves. The
// stand-ins keep each adopter's details ABI-encoded and return them as the
// declared struct; nothing else of the registries is reproduced.

enum ChildContractScope { None, ExistingOnly, All, FutureOnly }
enum IdentityRequirements { Anonymous, Pseudonymous, Named }

struct Contact { string name; string contact; }

struct AccountV2 { string accountAddress; ChildContractScope childContractScope; }
struct ChainV2 { string assetRecoveryAddress; AccountV2[] accounts; uint256 id; }
struct BountyTermsV2 {
    uint256 bountyPercentage;
    uint256 bountyCapUSD;
    bool retainable;
    IdentityRequirements identity;
    string diligenceRequirements;
    uint256 aggregateBountyCapUSD;
}
struct AgreementDetailsV2 {
    string protocolName;
    Contact[] contactDetails;
    ChainV2[] chains;
    BountyTermsV2 bountyTerms;
    string agreementURI;
}

struct AccountV1 { address accountAddress; ChildContractScope childContractScope; bytes signature; }
struct ChainV1 { address assetRecoveryAddress; AccountV1[] accounts; uint256 id; }
struct BountyTermsV1 {
    uint256 bountyPercentage;
    uint256 bountyCapUSD;
    bool retainable;
    IdentityRequirements identity;
    string diligenceRequirements;
}
struct AgreementDetailsV1 {
    string protocolName;
    Contact[] contactDetails;
    ChainV1[] chains;
    BountyTermsV1 bountyTerms;
    string agreementURI;
}

abstract contract EncodedDetails {
    mapping(address => bytes) internal details;

    /// Adopts `encoded`, the ABI encoding of the version's details struct.
    function adoptEncoded(bytes calldata encoded) external { details[msg.sender] = encoded; }

    function answer(address adopter) internal view {
        bytes memory b = details[adopter];
        require(b.length > 0, "no agreement");
        assembly { return(add(b, 32), mload(b)) }
    }
}

contract SafeHarborRegistryV2 is EncodedDetails {
    function getAgreement(address adopter) external view returns (AgreementDetailsV2 memory d) {
        answer(adopter);
        return d;
    }
}

contract SafeHarborRegistryV1 is EncodedDetails {
    function getAgreement(address adopter) external view returns (AgreementDetailsV1 memory d) {
        answer(adopter);
        return d;
    }
}
